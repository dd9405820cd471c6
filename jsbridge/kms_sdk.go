//go:build js && wasm && !ssm_nosdk

package jsbridge

import (
	"github.com/ssmwasm/ssm.wasm/protocol"
	"github.com/ssmwasm/ssm.wasm/protocol/awskms"
)

// newSDKKeyProvider returns the built-in KMS client of the AWS SDK. Its
// requests go through the browser's fetch, so the KMS endpoint must allow
// the page's origin (CORS) and the page's Content-Security-Policy must
// allow the endpoint in connect-src.
func newSDKKeyProvider(o sdkOptions) (protocol.KeyProvider, error) {
	p, err := awskms.New(awskms.Options(o))
	if err != nil {
		return nil, &argError{msg: "kms: " + err.Error()}
	}
	return p, nil
}
