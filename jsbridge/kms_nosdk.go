//go:build js && wasm && ssm_nosdk

package jsbridge

import "github.com/ssmwasm/ssm.wasm/protocol"

// newSDKKeyProvider rejects KMS credentials: this build leaves out the AWS
// SDK to make ssm.wasm smaller.
func newSDKKeyProvider(sdkOptions) (protocol.KeyProvider, error) {
	return nil, argErrorf("kms: this ssm.wasm was built with the ssm_nosdk " +
		"tag and has no built-in KMS client; pass kms.generateDataKey instead " +
		"of region and credentials")
}
