// sessionOptions turns an emulator session into startSession options.

export function sessionOptions(params, session = params.session) {
  const options = {
    streamUrl: session.StreamUrl,
    tokenValue: session.TokenValue,
    sessionId: session.SessionId,
    targetId: session.Target,
    cols: 80,
    rows: 24,
    logLevel: "warn",
  };
  if (params.kms) {
    options.requireEncryption = true;
    options.kms = {
      region: session.Kms.Region,
      endpoint: session.Kms.Endpoint,
      credentials: {
        accessKeyId: session.Kms.AccessKeyId,
        secretAccessKey: session.Kms.SecretAccessKey,
      },
    };
  }
  return options;
}
