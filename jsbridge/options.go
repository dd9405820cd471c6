//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"syscall/js"
	"time"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// argError is an invalid argument from JavaScript; the caller sees it as a
// TypeError.
type argError struct{ msg string }

func (e *argError) Error() string { return e.msg }

func argErrorf(format string, args ...any) error {
	return &argError{msg: fmt.Sprintf(format, args...)}
}

// startOptions is the parsed options object of startSession.
type startOptions struct {
	cfg           protocol.Config
	level         slog.Level
	onStateChange js.Value // a function or undefined
}

var optionNames = []string{
	"streamUrl", "tokenValue", "sessionId", "targetId", "cols", "rows",
	"requireEncryption", "logLevel", "kms", "resume", "resumeBudgetMs",
	"onStateChange",
}

// parseOptions validates the options of startSession. It returns an
// *argError for an invalid option.
func parseOptions(v js.Value) (o *startOptions, err error) {
	defer func() {
		if r := recover(); r != nil {
			o, err = nil, argErrorf("startSession: reading options failed: %v", panicError(r))
		}
	}()
	if v.Type() != js.TypeObject {
		return nil, argErrorf("startSession: options must be an object, got %s",
			describe(v))
	}
	o = &startOptions{level: slog.LevelWarn}
	steps := []func(js.Value) error{
		func(v js.Value) error { return checkKeys("options", v, optionNames) },
		o.parseStream, o.parseTerminal, o.parseLogging, o.parseKMS, o.parseResume,
	}
	for _, step := range steps {
		if err := step(v); err != nil {
			return nil, prefixArg("startSession: ", err)
		}
	}
	return o, nil
}

func (o *startOptions) parseStream(v js.Value) error {
	var err error
	c := &o.cfg
	if c.StreamURL, err = stringField(v, "streamUrl", true); err != nil {
		return err
	}
	if c.TokenValue, err = stringField(v, "tokenValue", true); err != nil {
		return err
	}
	if c.SessionID, err = stringField(v, "sessionId", false); err != nil {
		return err
	}
	if c.SessionID == "" {
		c.SessionID = protocol.SessionIDFromStreamURL(c.StreamURL)
	}
	c.TargetID, err = stringField(v, "targetId", false)
	return err
}

func (o *startOptions) parseTerminal(v js.Value) error {
	var err error
	if o.cfg.Cols, err = intField(v, "cols", 0, math.MaxUint16); err != nil {
		return err
	}
	if o.cfg.Rows, err = intField(v, "rows", 0, math.MaxUint16); err != nil {
		return err
	}
	o.cfg.RequireEncryption, err = boolField(v, "requireEncryption")
	return err
}

func (o *startOptions) parseLogging(v js.Value) error {
	level, err := stringField(v, "logLevel", false)
	if err != nil {
		return err
	}
	if level != "" {
		var ok bool
		if o.level, ok = parseLevel(level); !ok {
			return argErrorf("logLevel %q is not one of "+
				"debug, info, warn, error, off", level)
		}
	}
	o.onStateChange, err = funcField(v, "onStateChange")
	return err
}

func (o *startOptions) parseKMS(v js.Value) error {
	kms := get(v, "kms")
	if kms.IsUndefined() || kms.IsNull() {
		return nil
	}
	provider, err := parseKMS(kms)
	if err != nil {
		return err
	}
	o.cfg.KeyProvider = provider
	return nil
}

func (o *startOptions) parseResume(v js.Value) error {
	resume, err := funcField(v, "resume")
	if err != nil {
		return err
	}
	if !resume.IsUndefined() {
		o.cfg.Resume = resumeFunc(resume)
	}

	budget := get(v, "resumeBudgetMs")
	if budget.IsUndefined() {
		return nil
	}
	if budget.Type() != js.TypeNumber || !(budget.Float() > 0) ||
		math.IsInf(budget.Float(), 1) {
		return argErrorf("resumeBudgetMs must be a positive "+
			"number of milliseconds, got %s", describeNumber(budget))
	}
	o.cfg.ResumeBudget = time.Duration(budget.Float() * float64(time.Millisecond))
	return nil
}

// parseKMS returns the key provider for the kms option: a page's own
// generateDataKey function, or the built-in AWS SDK client.
func parseKMS(kms js.Value) (protocol.KeyProvider, error) {
	if kms.Type() != js.TypeObject {
		return nil, argErrorf("kms must be an object, got %s",
			describe(kms))
	}
	gen := get(kms, "generateDataKey")
	if !gen.IsUndefined() {
		if err := checkKeys("kms with generateDataKey", kms,
			[]string{"generateDataKey"}); err != nil {
			return nil, err
		}
		if gen.Type() != js.TypeFunction {
			return nil, argErrorf("kms.generateDataKey must be a "+
				"function, got %s", describe(gen))
		}
		return callbackKeyProvider{fn: gen}, nil
	}

	opts, err := parseSDKOptions(kms)
	if err != nil {
		return nil, err
	}
	return newSDKKeyProvider(opts)
}

// sdkOptions configures the built-in AWS SDK KMS client.
type sdkOptions struct {
	Region          string
	Endpoint        string
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

func parseSDKOptions(kms js.Value) (sdkOptions, error) {
	var o sdkOptions
	err := checkKeys("kms", kms,
		[]string{"region", "endpoint", "credentials"})
	if err != nil {
		return o, err
	}
	if o.Region, err = stringField(kms, "region", true); err != nil {
		return o, prefixArg("kms.", err)
	}
	if o.Endpoint, err = stringField(kms, "endpoint", false); err != nil {
		return o, prefixArg("kms.", err)
	}

	creds := get(kms, "credentials")
	if creds.Type() != js.TypeObject {
		return o, argErrorf("kms.credentials must be an object "+
			"{accessKeyId, secretAccessKey, sessionToken}, got %s", describe(creds))
	}
	fields := []struct {
		name     string
		dst      *string
		required bool
	}{
		{"accessKeyId", &o.AccessKeyID, true},
		{"secretAccessKey", &o.SecretAccessKey, true},
		{"sessionToken", &o.SessionToken, false},
	}
	for _, f := range fields {
		if *f.dst, err = stringField(creds, f.name, f.required); err != nil {
			return o, prefixArg("kms.credentials.", err)
		}
	}
	return o, nil
}

// resumeFunc adapts the resume option, an async function returning
// {streamUrl, tokenValue}, to protocol.Config.Resume.
func resumeFunc(fn js.Value) func(context.Context) (protocol.ResumeResult, error) {
	return func(ctx context.Context) (protocol.ResumeResult, error) {
		var r protocol.ResumeResult
		p, err := callJS(fn)
		if err != nil {
			return r, fmt.Errorf("resume callback: %w", err)
		}
		v, err := await(ctx, p)
		if err != nil {
			return r, fmt.Errorf("resume callback: %w", err)
		}
		if v.Type() != js.TypeObject {
			return r, fmt.Errorf("resume callback: result must be an object "+
				"{streamUrl, tokenValue}, got %s", describe(v))
		}
		if r.TokenValue, err = stringField(v, "tokenValue", false); err != nil {
			return r, fmt.Errorf("resume callback: %w", err)
		}
		if r.StreamURL, err = stringField(v, "streamUrl", false); err != nil {
			return r, fmt.Errorf("resume callback: %w", err)
		}
		return r, nil
	}
}

func checkKeys(what string, v js.Value, allowed []string) error {
	keys := jsObject.Call("keys", v)
	var unknown []string
	for i := range keys.Length() {
		k := keys.Index(i).String()
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		return argErrorf("%s: unknown option %s (known: %s)", what,
			strings.Join(unknown, ", "), strings.Join(allowed, ", "))
	}
	return nil
}

func stringField(v js.Value, name string, required bool) (string, error) {
	f := get(v, name)
	switch {
	case f.Type() == js.TypeString && (f.String() != "" || !required):
		return f.String(), nil
	case f.IsUndefined() && !required:
		return "", nil
	case f.IsUndefined() || f.Type() == js.TypeString:
		return "", argErrorf("%s is required", name)
	}
	return "", argErrorf("%s must be a string, got %s", name, describe(f))
}

func intField(v js.Value, name string, lo, hi int) (int, error) {
	f := get(v, name)
	if f.IsUndefined() {
		return 0, nil
	}
	if f.Type() == js.TypeNumber {
		x := f.Float()
		if x == math.Trunc(x) && x >= float64(lo) && x <= float64(hi) {
			return int(x), nil
		}
	}
	return 0, argErrorf("%s must be an integer from %d to %d, got %s",
		name, lo, hi, describeNumber(f))
}

func boolField(v js.Value, name string) (bool, error) {
	f := get(v, name)
	switch f.Type() {
	case js.TypeUndefined:
		return false, nil
	case js.TypeBoolean:
		return f.Bool(), nil
	}
	return false, argErrorf("%s must be a boolean, got %s", name, describe(f))
}

func funcField(v js.Value, name string) (js.Value, error) {
	f := get(v, name)
	if f.IsUndefined() || f.Type() == js.TypeFunction {
		return f, nil
	}
	return js.Undefined(), argErrorf("%s must be a function, got %s",
		name, describe(f))
}

// describeNumber describes v, with its value when it is a number.
func describeNumber(v js.Value) string {
	if v.Type() == js.TypeNumber {
		return fmt.Sprint(v.Float())
	}
	return describe(v)
}

// prefixArg adds the path of a nested option, or the function name, to
// the message of an argument error. Other errors pass unchanged.
func prefixArg(prefix string, err error) error {
	var a *argError
	if !errors.As(err, &a) {
		return err
	}
	return &argError{msg: prefix + a.msg}
}
