//go:build !js

package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
	"github.com/nsmithuk/local-kms/src/handler"
	"github.com/sirupsen/logrus"
)

// Fixed settings of the embedded local KMS. It does not verify request
// signatures, so the credentials are placeholders that only satisfy the
// SDK's signer.
const (
	kmsRegion          = "us-east-1"
	kmsAccountID       = "111122223333"
	kmsAlias           = "alias/ssm-emulator"
	kmsAccessKeyID     = "AKIALOCALKMSEMULATOR"
	kmsSecretAccessKey = "local-kms-does-not-check-signatures"
)

// KMSInfo describes the embedded local KMS: where it listens and the key
// sessions use. The credentials are fixed placeholders, because the local
// KMS does not check signatures.
type KMSInfo struct {
	Region          string `json:"Region"`
	Endpoint        string `json:"Endpoint"` // http://127.0.0.1:PORT
	KeyID           string `json:"KeyId"`    // ARN of the symmetric key
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
}

// kmsConfigOnce guards local-kms's process-wide configuration.
var kmsConfigOnce sync.Once

// localKMS is the embedded local KMS with its HTTP server and an SDK client
// the agent side uses to decrypt data keys.
type localKMS struct {
	dir    string
	db     *data.Database
	server *http.Server
	info   KMSInfo
	client *kms.Client
	logger *slog.Logger
}

// startKMS opens a local KMS database in a temporary directory, serves it on
// a random loopback port and creates the session key and its alias.
func startKMS(ctx context.Context, logger *slog.Logger) (*localKMS, error) {
	kmsConfigOnce.Do(func() {
		config.AWSRegion = kmsRegion
		config.AWSAccountId = kmsAccountID
	})
	dir, err := os.MkdirTemp("", "ssm-emulator-kms-")
	if err != nil {
		return nil, fmt.Errorf("start local kms: %w", err)
	}
	k := &localKMS{dir: dir, logger: logger}
	if k.db, err = openKMSDatabase(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		k.close()
		return nil, fmt.Errorf("start local kms: %w", err)
	}
	k.server = &http.Server{Handler: withCORS(http.HandlerFunc(k.serveHTTP)),
		ReadHeaderTimeout: 10 * time.Second}
	go k.server.Serve(ln)

	k.info = KMSInfo{
		Region:          kmsRegion,
		Endpoint:        "http://" + ln.Addr().String(),
		AccessKeyID:     kmsAccessKeyID,
		SecretAccessKey: kmsSecretAccessKey,
	}
	k.client = newKMSClient(k.info)
	if k.info.KeyID, err = k.createKey(ctx); err != nil {
		k.close()
		return nil, err
	}
	return k, nil
}

// openKMSDatabase opens the leveldb database of local-kms, which panics
// instead of returning an error.
func openKMSDatabase(dir string) (db *data.Database, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("open local kms database in %s: %v", dir, r)
		}
	}()
	return data.NewDatabase(dir), nil
}

// newKMSClient returns an SDK client for the local KMS: a loopback endpoint
// and static placeholder credentials, never the default credential chain.
func newKMSClient(info KMSInfo) *kms.Client {
	return kms.New(kms.Options{
		Region:       info.Region,
		BaseEndpoint: aws.String(info.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(
			info.AccessKeyID, info.SecretAccessKey, ""),
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	})
}

// createKey creates the symmetric key of all sessions and its alias, and
// returns the key's ARN.
func (k *localKMS) createKey(ctx context.Context) (string, error) {
	out, err := k.client.CreateKey(ctx, &kms.CreateKeyInput{
		Description: aws.String("ssm-emulator session key"),
	})
	if err != nil {
		return "", fmt.Errorf("create local kms key: %w", err)
	}
	_, err = k.client.CreateAlias(ctx, &kms.CreateAliasInput{
		AliasName:   aws.String(kmsAlias),
		TargetKeyId: out.KeyMetadata.KeyId,
	})
	if err != nil {
		return "", fmt.Errorf("create local kms alias %s: %w", kmsAlias, err)
	}
	return aws.ToString(out.KeyMetadata.Arn), nil
}

// serveHTTP dispatches one KMS JSON request to the local-kms handler named
// by X-Amz-Target. It calls the handler package directly, with a logger
// that discards everything, because local-kms's own entry point logs every
// call through a package logger that cannot be silenced.
func (k *localKMS) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" || r.Method != http.MethodPost {
		http.Error(w, "not found: the local KMS serves POST / only", http.StatusNotFound)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	operation, ok := strings.CutPrefix(target, "TrentService.")
	if !ok {
		http.Error(w, fmt.Sprintf("invalid X-Amz-Target %q", target), http.StatusBadRequest)
		return
	}
	h := handler.NewRequestHandler(r, discardLogger(), k.db)
	method := reflect.ValueOf(h).MethodByName(operation)
	if !method.IsValid() || method.Type().NumIn() != 0 || method.Type().NumOut() != 1 {
		http.Error(w, fmt.Sprintf("operation %q not implemented", operation),
			http.StatusNotImplemented)
		return
	}
	resp, ok := method.Call(nil)[0].Interface().(handler.Response)
	if !ok {
		http.Error(w, fmt.Sprintf("operation %q returned no response", operation),
			http.StatusInternalServerError)
		return
	}
	if resp.Code != http.StatusOK {
		k.logger.Debug("local kms rejected a request", "operation", operation, "status", resp.Code)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(resp.Code)
	io.WriteString(w, resp.Body)
}

// discardLogger returns a logrus logger that writes nothing, so that key
// material in local-kms's messages never reaches a log.
func discardLogger() *logrus.Logger {
	l := logrus.New()
	l.Out = io.Discard
	l.Level = logrus.PanicLevel
	return l
}

// decryptDataKey decrypts a session's data key with the encryption context
// the client used for GenerateDataKey.
func (k *localKMS) decryptDataKey(ctx context.Context, blob []byte,
	encryptionContext map[string]string) ([]byte, error) {
	out, err := k.client.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob:    blob,
		EncryptionContext: encryptionContext,
		KeyId:             aws.String(k.info.KeyID),
	})
	if err != nil {
		return nil, fmt.Errorf("decrypt data key: %w", err)
	}
	if len(out.Plaintext) != dataKeySize {
		return nil, fmt.Errorf("decrypt data key: got %d bytes, expected %d",
			len(out.Plaintext), dataKeySize)
	}
	return out.Plaintext, nil
}

// close stops the server and removes the database.
func (k *localKMS) close() error {
	var errs []error
	if k.server != nil {
		errs = append(errs, k.server.Close())
	}
	if k.db != nil {
		k.db.Close()
	}
	errs = append(errs, os.RemoveAll(k.dir))
	return errors.Join(errs...)
}
