package profile

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// feed is a protocol.Transport that hands out prepared output frames and
// counts the frames the session sends.
type feed struct {
	mu     sync.Mutex
	frames [][]byte
	wake   chan struct{}
	sent   atomic.Int64
}

func (f *feed) Send(context.Context, protocol.FrameKind, []byte) error {
	f.sent.Add(1)
	return nil
}

func (f *feed) Receive(ctx context.Context) (protocol.FrameKind, []byte, error) {
	for {
		f.mu.Lock()
		if len(f.frames) > 0 {
			frame := f.frames[0]
			f.frames = f.frames[1:]
			f.mu.Unlock()
			return protocol.FrameBinary, frame, nil
		}
		f.mu.Unlock()
		select {
		case <-f.wake:
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		}
	}
}

func (f *feed) Close(int, string) error { return nil }

func (f *feed) push(frames [][]byte) {
	f.mu.Lock()
	f.frames = append(f.frames, frames...)
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func outputFrames(tb testing.TB, from, n int) [][]byte {
	payload := make([]byte, 1024)
	frames := make([][]byte, n)
	for i := range frames {
		m := protocol.Message{
			MessageType:    protocol.TypeOutputStreamData,
			SchemaVersion:  1,
			CreatedDate:    1700000000000,
			SequenceNumber: int64(from + i),
			MessageID:      protocol.NewUUID(),
			PayloadType:    protocol.PayloadOutput,
			Payload:        payload,
		}
		frame, err := m.Marshal()
		if err != nil {
			tb.Fatal(err)
		}
		frames[i] = frame
	}
	return frames
}

// BenchmarkEngineOutput measures the session engine alone per 1 KiB Output
// message: parse, digest check, ack, delivery, and the hand-offs between
// its goroutines, without a browser WebSocket or JavaScript callbacks.
func BenchmarkEngineOutput(b *testing.B) {
	f := &feed{wake: make(chan struct{}, 1)}
	var received atomic.Int64
	done := make(chan struct{}, 1)
	var want atomic.Int64
	f.push(outputFrames(b, 0, 1))
	want.Store(1)
	s, err := protocol.Open(context.Background(), protocol.Config{
		StreamURL:  "ws://127.0.0.1/",
		TokenValue: "token",
		Dial: func(context.Context, string) (protocol.Transport, error) {
			return f, nil
		},
		OnOutput: func(p []byte) {
			if received.Add(1) == want.Load() {
				done <- struct{}{}
			}
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	<-done

	frames := outputFrames(b, 1, b.N)
	want.Store(int64(b.N) + 1)
	b.SetBytes(1024)
	b.ResetTimer()
	f.push(frames)
	<-done
}
