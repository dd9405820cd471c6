// Helpers for the pages that run ssm.wasm.

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

// firstData resolves with the time of the session's first onData call.
// Output that arrived before the subscription is delivered inside
// onData() itself, so the callback must not use the subscription that
// onData() has not yet returned.
export function firstData(session) {
  return new Promise((resolve) => {
    let seen = false;
    session.onData(() => {
      if (!seen) {
        seen = true;
        resolve(performance.now());
      }
    });
  });
}
