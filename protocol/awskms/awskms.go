// Package awskms provides a protocol.KeyProvider on the KMS client of the
// AWS SDK for Go v2. It builds the client from explicit options only: a
// region, static credentials and an optional endpoint, and never reads
// shared config files or instance metadata, which a browser does not
// have. It compiles for js/wasm, where its requests go through fetch.
package awskms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// Options configures a Provider.
type Options struct {
	Region          string // required, e.g. "eu-west-1"
	Endpoint        string // base URL of KMS; the AWS endpoint of Region when empty
	AccessKeyID     string // required
	SecretAccessKey string // required
	SessionToken    string // for temporary credentials
}

// Provider calls KMS GenerateDataKey for KMS-encrypted sessions.
type Provider struct {
	client *kms.Client
}

var _ protocol.KeyProvider = (*Provider)(nil)

// New returns a Provider for opts. It fails when the region or a
// credential is missing or the endpoint is not an absolute URL.
func New(opts Options) (*Provider, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	kopts := kms.Options{
		Region: opts.Region,
		Credentials: credentials.NewStaticCredentialsProvider(
			opts.AccessKeyID, opts.SecretAccessKey, opts.SessionToken),
		// A plain client: in js/wasm the SDK's default client sets a
		// dialer, which makes Go bypass fetch and fail.
		HTTPClient: &http.Client{},
	}
	if opts.Endpoint != "" {
		kopts.BaseEndpoint = aws.String(opts.Endpoint)
	}
	return &Provider{client: kms.New(kopts)}, nil
}

func (o Options) validate() error {
	switch {
	case o.Region == "":
		return errors.New("new KMS provider: region is missing")
	case o.AccessKeyID == "":
		return errors.New("new KMS provider: access key id is missing")
	case o.SecretAccessKey == "":
		return errors.New("new KMS provider: secret access key is missing")
	}
	if o.Endpoint == "" {
		return nil
	}
	u, err := url.Parse(o.Endpoint)
	if err != nil {
		return fmt.Errorf("new KMS provider: invalid endpoint: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("new KMS provider: endpoint %q is not an http or https URL",
			o.Endpoint)
	}
	return nil
}

// GenerateDataKey calls KMS GenerateDataKey with the key, context and size
// of req.
func (p *Provider) GenerateDataKey(ctx context.Context,
	req protocol.DataKeyRequest) (protocol.DataKey, error) {
	out, err := p.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(req.KeyID),
		EncryptionContext: req.EncryptionContext,
		NumberOfBytes:     aws.Int32(req.NumberOfBytes),
	})
	if err != nil {
		return protocol.DataKey{}, fmt.Errorf("kms generate data key for key %q: %w",
			req.KeyID, err)
	}
	return protocol.DataKey{Plaintext: out.Plaintext, CiphertextBlob: out.CiphertextBlob}, nil
}
