package awskms

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

func TestNewValidatesOptions(t *testing.T) {
	valid := Options{Region: "eu-west-1", AccessKeyID: "AKIDEXAMPLE",
		SecretAccessKey: "secret"}
	tests := []struct {
		name    string
		edit    func(*Options)
		wantErr string
	}{
		{"valid", func(*Options) {}, ""},
		{"valid endpoint",
			func(o *Options) { o.Endpoint = "http://127.0.0.1:4599" }, ""},
		{"missing region",
			func(o *Options) { o.Region = "" }, "region is missing"},
		{"missing key id",
			func(o *Options) { o.AccessKeyID = "" }, "access key id is missing"},
		{"missing secret",
			func(o *Options) { o.SecretAccessKey = "" }, "secret access key is missing"},
		{"relative endpoint",
			func(o *Options) { o.Endpoint = "127.0.0.1:4599" }, "endpoint"},
		{"ftp endpoint",
			func(o *Options) { o.Endpoint = "ftp://127.0.0.1" }, "not an http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := valid
			tt.edit(&opts)
			p, err := New(opts)
			if tt.wantErr == "" {
				if err != nil || p == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestGenerateDataKeyErrorHidesSecret checks that a KMS error is wrapped
// with the key id and never carries the secret key.
func TestGenerateDataKeyErrorHidesSecret(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"__type":"NotFoundException","message":"key not found"}`))
	}))
	defer srv.Close()

	const secret = "wJalrXUtnFEMI-secret-value"
	p, err := New(Options{Region: "eu-west-1", Endpoint: srv.URL,
		AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: secret})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.GenerateDataKey(context.Background(), protocol.DataKeyRequest{
		KeyID: "alias/missing", NumberOfBytes: 64,
		EncryptionContext: map[string]string{protocol.ContextSessionID: "s-1"},
	})
	if err == nil {
		t.Fatal("GenerateDataKey succeeded against a failing endpoint")
	}
	if !strings.Contains(err.Error(), "alias/missing") {
		t.Errorf("error %q does not name the key", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Error("error contains the secret access key")
	}
	var apiErr interface{ ErrorCode() string }
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NotFoundException" {
		t.Errorf("error %v does not wrap the KMS error code", err)
	}
}
