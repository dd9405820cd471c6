package protocol

import "testing"

func TestNewUUIDVersionAndUniqueness(t *testing.T) {
	// 1000 UUIDs take 16000 bytes, so the 4 KiB buffer refills several
	// times.
	seen := make(map[UUID]bool)
	for range 1000 {
		u := NewUUID()
		if v := u[6] >> 4; v != 4 {
			t.Fatalf("NewUUID() = %v: version %d, want 4", u, v)
		}
		if variant := u[8] >> 6; variant != 0b10 {
			t.Fatalf("NewUUID() = %v: variant bits %02b, want 10", u, variant)
		}
		if seen[u] {
			t.Fatalf("NewUUID() returned %v twice", u)
		}
		seen[u] = true
	}
}

func TestUUIDStringRoundTrip(t *testing.T) {
	const s = "16fd2706-8baf-433b-82eb-8c7fada847da"
	u, err := ParseUUID(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.String(); got != s {
		t.Errorf("String() = %q, want %q", got, s)
	}
}
