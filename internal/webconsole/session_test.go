package webconsole

import (
	"testing"
	"time"

	"moderation/internal/auth"
)

// TestSessionsExpire: a session ends when idle for the idle timeout, at
// its absolute age, and at its token's expiry, whichever comes first; use
// keeps it alive only until the absolute end; ended sessions are swept at
// the next sign-in.
func TestSessionsExpire(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	who := auth.Identity{Subject: "alice", Role: auth.RoleReviewer}
	ss := newSessions(30*time.Minute, 12*time.Hour)

	idle := ss.start("t1", who, t0.Add(24*time.Hour), t0)
	if ss.get(idle.id, t0.Add(29*time.Minute)) == nil {
		t.Fatal("a session used within the idle timeout ended")
	}
	if ss.get(idle.id, t0.Add(29*time.Minute+30*time.Minute)) != nil {
		t.Error("a session idle for 30 minutes is still live")
	}

	busy := ss.start("t2", who, t0.Add(24*time.Hour), t0)
	at := t0
	for at.Before(t0.Add(12*time.Hour - 20*time.Minute)) {
		at = at.Add(20 * time.Minute)
		if ss.get(busy.id, at) == nil {
			t.Fatalf("a session in use ended at %v", at.Sub(t0))
		}
	}
	if ss.get(busy.id, t0.Add(12*time.Hour)) != nil {
		t.Error("a session in use outlived its 12 hours")
	}

	short := ss.start("t3", who, t0.Add(10*time.Minute), t0)
	if ss.get(short.id, t0.Add(9*time.Minute)) == nil || ss.get(short.id, t0.Add(10*time.Minute)) != nil {
		t.Error("a session did not end with its token")
	}

	if a, b := ss.start("t4", who, time.Time{}, t0), ss.start("t4", who, time.Time{}, t0); a.id == b.id || a.csrf == b.csrf || a.id == a.csrf {
		t.Error("session ids and CSRF tokens are not each random")
	}
	left := ss.start("t5", who, time.Time{}, t0.Add(13*time.Hour))
	ss.mu.Lock()
	n := len(ss.m)
	ss.mu.Unlock()
	if n != 1 || ss.get(left.id, t0.Add(13*time.Hour)) == nil {
		t.Errorf("after a sign-in 13 hours on, %d sessions are kept, want only the new one", n)
	}
}
