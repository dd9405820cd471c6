// Minimal encoder and decoder of Session Manager data-channel messages for
// the bare pages. Layout, big-endian: HeaderLength (4, always 116),
// MessageType (32, space-padded), SchemaVersion (4), CreatedDate (8, ms),
// SequenceNumber (8), Flags (8), MessageId (16, UUID halves swapped),
// PayloadDigest (32, SHA-256 of the payload), PayloadType (4),
// PayloadLength (4), Payload.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const HEADER_SIZE = 120;
export const PAYLOAD_OUTPUT = 1;
export const PAYLOAD_SIZE = 3;

// openMessage returns the OpenDataChannelInput text frame.
export function openMessage(token) {
  return JSON.stringify({
    MessageSchemaVersion: "1.0",
    RequestId: crypto.randomUUID(),
    TokenValue: token,
    ClientId: crypto.randomUUID(),
    ClientVersion: "1.2.764.0",
  });
}

function uuidBytes(uuid) {
  const hex = uuid.replaceAll("-", "");
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return bytes;
}

// encodeMessage builds one binary frame; the digest makes it async.
export async function encodeMessage({ type, seq = 0, flags = 0, payloadType = 0, payload }) {
  const body = typeof payload === "string" ? encoder.encode(payload) : payload;
  const frame = new Uint8Array(HEADER_SIZE + body.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, 116);
  frame.fill(0x20, 4, 36);
  frame.set(encoder.encode(type), 4);
  view.setUint32(36, 1);
  view.setBigUint64(40, BigInt(Date.now()));
  view.setBigInt64(48, BigInt(seq));
  view.setBigUint64(56, BigInt(flags));
  const id = uuidBytes(crypto.randomUUID());
  frame.set(id.subarray(8, 16), 64);
  frame.set(id.subarray(0, 8), 72);
  frame.set(new Uint8Array(await crypto.subtle.digest("SHA-256", body)), 80);
  view.setUint32(112, payloadType);
  view.setUint32(116, body.length);
  frame.set(body, HEADER_SIZE);
  return frame;
}

// ackMessage acknowledges the output message with the given sequence
// number. The agent matches acks by sequence number only.
export function ackMessage(seq, messageId = "00000000-0000-4000-8000-000000000000") {
  const payload = JSON.stringify({
    AcknowledgedMessageType: "output_stream_data",
    AcknowledgedMessageId: messageId,
    AcknowledgedMessageSequenceNumber: seq,
    IsSequentialMessage: true,
  });
  return encodeMessage({ type: "acknowledge", flags: 3, payload });
}

// decodeHeader reads the fields the bare pages need from a frame.
export function decodeHeader(buffer) {
  const view = new DataView(buffer);
  return {
    type: decoder.decode(new Uint8Array(buffer, 4, 32)).replace(/[\s\0]+$/, ""),
    seq: Number(view.getBigInt64(48)),
    payloadType: view.getUint32(112),
    payloadLength: buffer.byteLength - HEADER_SIZE,
  };
}
