package auth_test

import (
	"testing"
	"time"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
)

func TestSessionStoreKeepsOnlyTheTokensHash(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := dbtest.Context(t)
		clock := infrashare.NewTestClock(t0)
		s := auth.NewSessionStore(db, clock)
		const token = "session-token-abc"
		if err := s.CommitCtx(ctx, token, []byte("first"), t0.Add(time.Hour).In(ict)); err != nil {
			t.Fatal(err)
		}
		// A second commit of the same session replaces it.
		if err := s.CommitCtx(ctx, token, []byte("second"), t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit("other-session", []byte("x"), t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		var hashes []string
		if err := db.Root().Table("sessions").Order("token_hash").Pluck("token_hash", &hashes).Error; err != nil {
			t.Fatal(err)
		}
		if len(hashes) != 2 || (hashes[0] != auth.HashToken(token) && hashes[1] != auth.HashToken(token)) {
			t.Fatalf("stored session keys %v, want the two hashes", hashes)
		}
		for _, h := range hashes {
			if h == token || h == "other-session" {
				t.Fatal("a session token is stored in clear")
			}
		}
		data, ok, err := s.FindCtx(ctx, token)
		if err != nil || !ok || string(data) != "second" {
			t.Fatalf("FindCtx = %q %v %v, want the second commit", data, ok, err)
		}
		if _, ok, err := s.Find("unknown"); ok || err != nil {
			t.Fatalf("an unknown session: found %v, %v", ok, err)
		}

		// Past the other session's expiry it is gone, and the sweep removes it.
		clock.Advance(90 * time.Minute)
		if _, ok, _ := s.Find("other-session"); ok {
			t.Error("an expired session is still found")
		}
		if _, ok, _ := s.FindCtx(ctx, token); !ok {
			t.Error("a live session is not found")
		}
		if err := s.DeleteExpired(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteExpired(ctx); err != nil {
			t.Fatal(err)
		}
		var n int64
		db.Root().Table("sessions").Count(&n)
		if n != 1 {
			t.Fatalf("%d sessions after the sweep, want 1", n)
		}
		// Sign-out removes it at once.
		if err := s.Delete(token); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.FindCtx(ctx, token); ok {
			t.Error("a deleted session is still found")
		}
	})
}
