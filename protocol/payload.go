package protocol

import "encoding/json"

// PayloadType is the kind of content in a stream message payload.
type PayloadType uint32

// Payload types. Error (2) and Parameter (4) are defined by the service but
// used by neither official peer.
const (
	PayloadNone                 PayloadType = 0
	PayloadOutput               PayloadType = 1
	PayloadError                PayloadType = 2
	PayloadSize                 PayloadType = 3
	PayloadParameter            PayloadType = 4
	PayloadHandshakeRequest     PayloadType = 5
	PayloadHandshakeResponse    PayloadType = 6
	PayloadHandshakeComplete    PayloadType = 7
	PayloadEncChallengeRequest  PayloadType = 8
	PayloadEncChallengeResponse PayloadType = 9
	PayloadFlag                 PayloadType = 10
	PayloadStdErr               PayloadType = 11
	PayloadExitCode             PayloadType = 12
)

// Flag payload values (a 4-byte big-endian uint32 in a PayloadFlag message).
const (
	FlagDisconnectToPort   uint32 = 1
	FlagTerminateSession   uint32 = 2
	FlagConnectToPortError uint32 = 3
)

// Session types named in the SessionType handshake action.
const (
	SessionTypeStandardStream         = "Standard_Stream"
	SessionTypeInteractiveCommands    = "InteractiveCommands"
	SessionTypeNonInteractiveCommands = "NonInteractiveCommands"
	SessionTypePort                   = "Port"
)

// Handshake action types and statuses.
const (
	ActionSessionType   = "SessionType"
	ActionKMSEncryption = "KMSEncryption"

	ActionStatusSuccess     = 1
	ActionStatusFailed      = 2
	ActionStatusUnsupported = 3
)

// Encryption context keys of GenerateDataKey and Decrypt.
const (
	ContextSessionID       = "aws:ssm:SessionId"
	ContextTargetID        = "aws:ssm:TargetId"
	ContextRandomChallenge = "aws:ssm:RandomChallenge"
)

// OpenDataChannelInput is the JSON text frame that opens the data channel.
type OpenDataChannelInput struct {
	MessageSchemaVersion string
	RequestId            string
	TokenValue           string
	ClientId             string
	ClientVersion        string `json:",omitempty"`
}

// AcknowledgeContent is the payload of an acknowledge message.
type AcknowledgeContent struct {
	AcknowledgedMessageType           string
	AcknowledgedMessageId             string
	AcknowledgedMessageSequenceNumber int64
	IsSequentialMessage               bool
}

// ChannelClosed is the payload of a channel_closed message. CreatedDate is
// milliseconds since the epoch written as text.
type ChannelClosed struct {
	MessageId     string
	CreatedDate   string
	DestinationId string
	SessionId     string
	MessageType   string
	SchemaVersion int
	Output        string
}

// SizeData is the payload of a Size message.
type SizeData struct {
	Cols uint32 `json:"cols"`
	Rows uint32 `json:"rows"`
}

// HandshakeRequest is the agent's first message when a handshake happens.
type HandshakeRequest struct {
	AgentVersion           string
	RequestedClientActions []RequestedClientAction
}

// RequestedClientAction is one action of a HandshakeRequest. The shape of
// ActionParameters depends on ActionType.
type RequestedClientAction struct {
	ActionType       string
	ActionParameters json.RawMessage
}

// SessionTypeRequest is the ActionParameters of a SessionType action.
type SessionTypeRequest struct {
	SessionType string
	Properties  json.RawMessage
}

// KMSEncryptionRequest is the ActionParameters of a KMSEncryption action.
// Challenge is base64 of 16 random bytes, sent by newer agents only.
type KMSEncryptionRequest struct {
	KMSKeyId  string
	Challenge string `json:",omitempty"`
}

// HandshakeResponse is the client's reply to a HandshakeRequest.
type HandshakeResponse struct {
	ClientVersion          string
	ProcessedClientActions []ProcessedClientAction
	Errors                 []string
}

// ProcessedClientAction is the client's result for one requested action.
type ProcessedClientAction struct {
	ActionType   string
	ActionStatus int
	ActionResult any
	Error        string
}

// KMSEncryptionResponse is the ActionResult of a successful KMSEncryption
// action. KMSCipherTextKey is the CiphertextBlob of GenerateDataKey.
type KMSEncryptionResponse struct {
	KMSCipherTextKey         []byte
	KMSCipherTextHash        []byte
	ChallengeAcknowledgement bool `json:",omitempty"`
}

// HandshakeComplete ends the handshake. HandshakeTimeToComplete is in
// nanoseconds.
type HandshakeComplete struct {
	HandshakeTimeToComplete int64
	CustomerMessage         string
}

// EncChallenge is the payload of EncChallengeRequest and
// EncChallengeResponse: base64 of nonce, ciphertext and tag.
type EncChallenge struct {
	Challenge []byte
}
