package auth_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
)

// tokenRow is an api_tokens row as stored.
type tokenRow struct {
	ID         int64
	UserID     int64
	Kind       string
	TokenHash  string
	Prefix     string
	ExpiresAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (tokenRow) TableName() string { return "api_tokens" }

func (e *env) tokenRow(t *testing.T, id int64) tokenRow {
	t.Helper()
	var r tokenRow
	if err := e.db.Root().WithContext(e.ctx).Where("id = ?", id).First(&r).Error; err != nil {
		t.Fatalf("api_tokens %d: %v", id, err)
	}
	return r
}

func TestLoginIssuesAHashedTokenForTheRightActor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		cases := []struct {
			email, org, kind, role string
			units                  []string
		}{
			{vnptEmail, "VNPT", auth.KindOperator, auth.RoleOperator, nil},
			{officerEmail, "UBND-NK", auth.KindAuthority, auth.RoleOfficer, []string{"916"}},
			{auditorEmail, "DEPT", auth.KindDepartment, auth.RoleAuditor, nil},
			// E-mail addresses compare without regard to case or spaces.
			{"  Admin@Demo.InfraShare.VN ", "ADMIN", auth.KindAdmin, auth.RoleAdmin, nil},
		}
		for _, c := range cases {
			res := e.login(t, c.email, demoPassword, "203.0.113.7")
			if !strings.HasPrefix(res.Token, "isk_") || len(res.Token) < 40 {
				t.Errorf("%s: token %q, want isk_ and 256 random bits", c.email, res.Token)
			}
			wantEmail := auth.NormalizeEmail(c.email)
			if res.User.Email != wantEmail || res.User.Organization.Code != c.org || fmt.Sprint(res.User.Roles) != "["+c.role+"]" {
				t.Errorf("%s: user view %+v", c.email, res.User)
			}
			if !res.ExpiresAt.Equal(t0.Add(12*time.Hour)) || !res.AuthAt.Equal(t0) {
				t.Errorf("%s: expires %v, auth at %v; want the 12 h session lifetime from %v", c.email, res.ExpiresAt, res.AuthAt, t0)
			}
			body, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			if low := strings.ToLower(string(body)); strings.Contains(low, "password") || strings.Contains(low, "$2a$") {
				t.Errorf("%s: the sign-in answer shows a password hash: %s", c.email, body)
			}

			a, err := e.svc.Authenticate(e.ctx, res.Token)
			if err != nil {
				t.Fatalf("%s: Authenticate: %v", c.email, err)
			}
			if a.UserID != res.User.ID || a.OrgCode != c.org || a.OrgKind != c.kind || fmt.Sprint(a.Roles) != "["+c.role+"]" ||
				fmt.Sprint(a.UnitCodes) != fmt.Sprint(c.units) || a.TokenID == 0 || a.Email != wantEmail {
				t.Errorf("%s: actor %+v", c.email, a)
			}
			row := e.tokenRow(t, a.TokenID)
			if row.TokenHash == res.Token || row.TokenHash != auth.HashToken(res.Token) || row.UserID != res.User.ID || row.Kind != "login" {
				t.Errorf("%s: stored token %+v is not the hash of the token given", c.email, row)
			}
			if !strings.HasPrefix(res.Token, row.Prefix) || len(row.Prefix) >= len(res.Token)/2 {
				t.Errorf("%s: stored prefix %q", c.email, row.Prefix)
			}
			var n int64
			if err := db.Root().Table("api_tokens").Where("token_hash = ?", res.Token).Count(&n).Error; err != nil || n != 0 {
				t.Errorf("%s: the token is stored in clear", c.email)
			}
		}
		logins := eventsWith(t, db, "auth.login")
		if len(logins) != len(cases) {
			t.Fatalf("%d auth.login events, want %d", len(logins), len(cases))
		}
		vnpt := e.userID(t, vnptEmail)
		if logins[0].ObjectID != strconv.FormatInt(vnpt, 10) || logins[0].ActorID == nil || *logins[0].ActorID != vnpt ||
			logins[0].After == nil || !strings.Contains(*logins[0].After, `"ip":"203.0.113.7"`) {
			t.Errorf("auth.login event %+v", logins[0])
		}
		if res := verify(t, e.ctx, e.audit); !res.OK {
			t.Fatalf("verify %+v", res)
		}
		// Not a token at all.
		for _, bad := range []string{"", "isk_", "isk_" + strings.Repeat("x", 43), "Bearer isk_abc", "isk_" + strings.Repeat("a", 200)} {
			_, err := e.svc.Authenticate(e.ctx, bad)
			wantCode(t, err, infrashare.EUNAUTHORIZED)
		}
	})
}

func TestLoginWrongPasswordAndUnknownEmailLookAlike(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		// The real cost here: the point is that both paths run bcrypt.
		old := auth.SetBcryptCost(bcrypt.DefaultCost)
		e := newDemoEnv(t, db)
		auth.SetBcryptCost(old)

		_, wrongErr := e.svc.Login(e.ctx, vnptEmail, "not-the-password", "198.51.100.1")
		_, unknownErr := e.svc.Login(e.ctx, "nobody@demo.infrashare.vn", demoPassword, "198.51.100.2")
		var we, ue *infrashare.Error
		if !errors.As(wrongErr, &we) || !errors.As(unknownErr, &ue) {
			t.Fatalf("errors %v and %v, want *infrashare.Error", wrongErr, unknownErr)
		}
		if we.Code != infrashare.EUNAUTHORIZED || we.Code != ue.Code || we.Message != ue.Message || len(we.Fields)+len(ue.Fields) != 0 ||
			len(we.Details)+len(ue.Details) != 0 {
			t.Fatalf("wrong password: %+v; unknown e-mail: %+v; want the same unauthorized answer", we, ue)
		}
		failed := eventsWith(t, db, "auth.login_failed")
		if len(failed) != 2 {
			t.Fatalf("%d auth.login_failed events, want 2", len(failed))
		}
		if failed[0].ObjectID != strconv.FormatInt(e.userID(t, vnptEmail), 10) || failed[0].After == nil ||
			!strings.Contains(*failed[0].After, `"email":"`+vnptEmail+`"`) || strings.Contains(*failed[0].After, "not-the-password") {
			t.Errorf("failure event for the wrong password %+v", failed[0])
		}
		if failed[1].After == nil || !strings.Contains(*failed[1].After, `"email":"nobody@demo.infrashare.vn"`) ||
			!strings.Contains(*failed[1].After, `"ip":"198.51.100.2"`) || strings.Contains(*failed[1].After, demoPassword) {
			t.Errorf("failure event for the unknown e-mail %+v", failed[1])
		}

		// Timing: an unknown e-mail costs a bcrypt comparison too. Without
		// the dummy hash it would be some hundred times faster.
		const attempts = 3
		var wrong, unknown time.Duration
		for i := 0; i < attempts; i++ {
			start := time.Now()
			_, err := e.svc.Login(e.ctx, viettelEmail, "not-the-password", fmt.Sprintf("192.0.2.%d", 10+i))
			wrong += time.Since(start)
			wantCode(t, err, infrashare.EUNAUTHORIZED)
			start = time.Now()
			_, err = e.svc.Login(e.ctx, fmt.Sprintf("ghost%d@demo.infrashare.vn", i), "not-the-password", fmt.Sprintf("192.0.2.%d", 20+i))
			unknown += time.Since(start)
			wantCode(t, err, infrashare.EUNAUTHORIZED)
		}
		if unknown*3 < wrong {
			t.Errorf("an unknown e-mail takes %v on average, a wrong password %v: the difference tells which addresses exist",
				unknown/attempts, wrong/attempts)
		}
	})
}

func TestLoginRateLimitPerAccount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		for i := 0; i < 5; i++ {
			_, err := e.svc.Login(e.ctx, vnptEmail, "wrong-password", fmt.Sprintf("198.51.100.%d", i))
			wantCode(t, err, infrashare.EUNAUTHORIZED)
			e.clock.Advance(time.Second)
		}
		// The sixth, from yet another address and with the right password.
		_, err := e.svc.Login(e.ctx, strings.ToUpper(vnptEmail), demoPassword, "198.51.100.99")
		le := wantCode(t, err, infrashare.ERATELIMITED)
		secs, ok := le.Details["retry_after_seconds"].(int64)
		// The oldest failure was 5 s ago: it leaves the 15-minute window in 895 s.
		if !ok || secs <= 0 || secs > 15*60 || secs < 15*60-10 {
			t.Fatalf("retry_after_seconds %#v, want about 895", le.Details["retry_after_seconds"])
		}
		// Other accounts are not affected.
		e.login(t, viettelEmail, demoPassword, "198.51.100.99")
		// A refused attempt is not a failure that extends the lock.
		if n := len(eventsWith(t, db, "auth.login_failed")); n != 5 {
			t.Errorf("%d auth.login_failed events, want 5", n)
		}

		e.clock.Advance(16 * time.Minute)
		res := e.login(t, vnptEmail, demoPassword, "198.51.100.99")
		if _, err := e.svc.Authenticate(e.ctx, res.Token); err != nil {
			t.Fatalf("token after the lock ended: %v", err)
		}
		// A success forgets the account's failures: four more do not lock.
		for i := 0; i < 4; i++ {
			_, err := e.svc.Login(e.ctx, vnptEmail, "wrong-password", "198.51.100.50")
			wantCode(t, err, infrashare.EUNAUTHORIZED)
		}
		e.login(t, vnptEmail, demoPassword, "198.51.100.51")
	})
}

func TestLoginRateLimitPerAddress(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		const ip = "203.0.113.66"
		for i := 0; i < 20; i++ {
			_, err := e.svc.Login(e.ctx, fmt.Sprintf("guess%d@demo.infrashare.vn", i), "wrong-password", ip)
			wantCode(t, err, infrashare.EUNAUTHORIZED)
		}
		_, err := e.svc.Login(e.ctx, vnptEmail, demoPassword, ip)
		le := wantCode(t, err, infrashare.ERATELIMITED)
		if secs, ok := le.Details["retry_after_seconds"].(int64); !ok || secs <= 0 {
			t.Fatalf("retry_after_seconds %#v, want > 0", le.Details["retry_after_seconds"])
		}
		e.login(t, vnptEmail, demoPassword, "203.0.113.67")
		e.clock.Advance(16 * time.Minute)
		e.login(t, viettelEmail, demoPassword, ip)
	})
}

// The limit must hold against an attacker who sends the guesses at once,
// not one after another: each attempt counts the earlier failures before
// its own bcrypt comparison and records its failure only after it, so
// attempts in flight together all pass the check.
func TestLoginRateLimitHoldsForConcurrentGuesses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		const guesses = 20
		var wg sync.WaitGroup
		start := make(chan struct{})
		codes := make([]string, guesses)
		for i := 0; i < guesses; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				_, err := e.svc.Login(e.ctx, vnptEmail, fmt.Sprintf("guess-number-%d", i), fmt.Sprintf("198.51.100.%d", i))
				codes[i] = infrashare.ErrorCode(err)
			}(i)
		}
		close(start)
		wg.Wait()
		checked := 0
		for i, c := range codes {
			switch c {
			case infrashare.EUNAUTHORIZED:
				checked++
			case infrashare.ERATELIMITED:
			default:
				t.Errorf("guess %d: %s", i, c)
			}
		}
		if checked > 5 {
			t.Errorf("%d of %d concurrent guesses had their password checked, want at most 5 per 15 minutes: %v", checked, guesses, codes)
		}
		_, err := e.svc.Login(e.ctx, vnptEmail, demoPassword, "198.51.100.200")
		wantCode(t, err, infrashare.ERATELIMITED)
	})
}

func TestLoginInputValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		cases := []struct {
			email, password, field string
		}{
			{"", demoPassword, "email"},
			{"   ", demoPassword, "email"},
			{strings.Repeat("a", 320) + "@x.vn", demoPassword, "email"},
			{vnptEmail, "", "password"},
			{vnptEmail, strings.Repeat("p", 1025), "password"},
		}
		for _, c := range cases {
			_, err := e.svc.Login(e.ctx, c.email, c.password, "192.0.2.1")
			wantField(t, err, c.field)
		}
		if n := len(eventsWith(t, db, "auth.login_failed")); n != 0 {
			t.Errorf("%d failures recorded for malformed input, want 0", n)
		}
	})
}

func TestLogoutRevokesTheToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		res := e.login(t, vnptEmail, demoPassword, "192.0.2.1")
		other := e.login(t, vnptEmail, demoPassword, "192.0.2.2")
		a, err := e.svc.Authenticate(e.ctx, res.Token) // now cached
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Logout(e.ctx, a); err != nil {
			t.Fatal(err)
		}
		// At once, although the actor was cached a moment ago.
		_, err = e.svc.Authenticate(e.ctx, res.Token)
		wantCode(t, err, infrashare.EUNAUTHORIZED)
		if row := e.tokenRow(t, a.TokenID); row.RevokedAt == nil || !row.RevokedAt.Equal(t0) {
			t.Errorf("revoked_at %v, want %v", row.RevokedAt, t0)
		}
		// The user's other sign-in goes on.
		if _, err := e.svc.Authenticate(e.ctx, other.Token); err != nil {
			t.Errorf("another token of the user: %v", err)
		}
		evs := eventsWith(t, db, "auth.logout")
		if len(evs) != 1 || evs[0].ObjectID != strconv.FormatInt(a.UserID, 10) || evs[0].After == nil ||
			!strings.Contains(*evs[0].After, `"token_id":`+strconv.FormatInt(a.TokenID, 10)) {
			t.Errorf("auth.logout events %+v", evs)
		}
	})
}

func TestDisablingAndPasswordResetEndSignIns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		admin := e.actor(t, adminEmail)
		viettel := e.userID(t, viettelEmail)

		// Disabling: the token stops at once, and the password no longer works.
		res := e.login(t, viettelEmail, demoPassword, "192.0.2.1")
		if _, err := e.svc.Authenticate(e.ctx, res.Token); err != nil { // cached
			t.Fatal(err)
		}
		if _, err := e.svc.ActorForSession(e.ctx, viettel, res.AuthAt); err != nil { // cached
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
		yes := true
		v, err := e.svc.UpdateUser(e.ctx, admin, viettel, auth.UserPatch{Disabled: &yes})
		if err != nil {
			t.Fatal(err)
		}
		if !v.Disabled {
			t.Error("the answer does not show the user disabled")
		}
		_, err = e.svc.Authenticate(e.ctx, res.Token)
		wantCode(t, err, infrashare.EUNAUTHORIZED)
		_, err = e.svc.ActorForSession(e.ctx, viettel, res.AuthAt)
		wantCode(t, err, infrashare.EUNAUTHORIZED)
		_, err = e.svc.Login(e.ctx, viettelEmail, demoPassword, "192.0.2.1")
		le := wantCode(t, err, infrashare.EUNAUTHORIZED)
		if le.Message != "wrong e-mail or password" {
			t.Errorf("a disabled account answers %q: it must look like any wrong sign-in", le.Message)
		}

		// Enabled again, the old token stays dead; a new sign-in works.
		e.clock.Advance(time.Second)
		no := false
		if _, err := e.svc.UpdateUser(e.ctx, admin, viettel, auth.UserPatch{Disabled: &no}); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Authenticate(e.ctx, res.Token)
		wantCode(t, err, infrashare.EUNAUTHORIZED)
		res = e.login(t, viettelEmail, demoPassword, "192.0.2.1")
		if _, err := e.svc.Authenticate(e.ctx, res.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ActorForSession(e.ctx, viettel, res.AuthAt); err != nil {
			t.Fatal(err)
		}

		// A password reset ends tokens and the sessions that began before it.
		e.clock.Advance(time.Minute)
		newPassword := "a-new-password-2026"
		if _, err := e.svc.UpdateUser(e.ctx, admin, viettel, auth.UserPatch{Password: &newPassword}); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Authenticate(e.ctx, res.Token)
		wantCode(t, err, infrashare.EUNAUTHORIZED)
		_, err = e.svc.ActorForSession(e.ctx, viettel, res.AuthAt)
		wantCode(t, err, infrashare.EUNAUTHORIZED)
		_, err = e.svc.Login(e.ctx, viettelEmail, demoPassword, "192.0.2.1")
		wantCode(t, err, infrashare.EUNAUTHORIZED)
		e.clock.Advance(time.Second)
		res = e.login(t, viettelEmail, newPassword, "192.0.2.1")
		if _, err := e.svc.ActorForSession(e.ctx, viettel, res.AuthAt); err != nil {
			t.Fatalf("a session begun after the reset: %v", err)
		}
		ev := eventsWith(t, db, "user.update")
		if len(ev) != 3 || ev[2].Reason != "password reset" || strings.Contains(*ev[2].After, newPassword) ||
			strings.Contains(*ev[2].After, "$2a$") {
			t.Errorf("user.update events %+v", ev)
		}
		// Other users are untouched.
		if _, err := e.svc.Authenticate(e.ctx, e.login(t, vnptEmail, demoPassword, "192.0.2.9").Token); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPersonalTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		vnpt := e.actor(t, vnptEmail)
		viettel := e.actor(t, viettelEmail)

		tok, err := e.svc.CreateToken(e.ctx, vnpt, auth.NewToken{Name: "GIS sync"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tok.Token, "isk_") || tok.Kind != "personal" || tok.Name != "GIS sync" ||
			!tok.ExpiresAt.Equal(t0.Add(90*24*time.Hour)) {
			t.Fatalf("created %+v, want a personal isk_ token for the default 90 days", tok)
		}
		body, _ := json.Marshal(tok.TokenView)
		if strings.Contains(string(body), tok.Token) || strings.Contains(string(body), auth.HashToken(tok.Token)) {
			t.Errorf("the token's listing shows the secret or its hash: %s", body)
		}
		short, err := e.svc.CreateToken(e.ctx, vnpt, auth.NewToken{Name: "short", ExpiresInDays: 2})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreateToken(e.ctx, vnpt, auth.NewToken{Name: "a year", ExpiresInDays: 365}); err != nil {
			t.Fatalf("the maximum: %v", err)
		}
		for _, c := range []struct {
			in    auth.NewToken
			field string
		}{
			{auth.NewToken{Name: "too long", ExpiresInDays: 366}, "expires_in_days"},
			{auth.NewToken{Name: "negative", ExpiresInDays: -1}, "expires_in_days"},
			{auth.NewToken{Name: ""}, "name"},
			{auth.NewToken{Name: strings.Repeat("n", 101)}, "name"},
		} {
			_, err := e.svc.CreateToken(e.ctx, vnpt, c.in)
			wantField(t, err, c.field)
		}
		_, err = e.svc.CreateToken(e.ctx, auth.SystemActor, auth.NewToken{Name: "system"})
		wantCode(t, err, infrashare.EUNAUTHORIZED)

		a, err := e.svc.Authenticate(e.ctx, tok.Token)
		if err != nil || a.UserID != vnpt.UserID || a.TokenID != tok.ID {
			t.Fatalf("Authenticate the personal token: %+v %v", a, err)
		}
		list, err := e.svc.ListTokens(e.ctx, vnpt)
		if err != nil || len(list) != 3 || list[0].ID != tok.ID || list[1].ID != short.ID {
			t.Fatalf("ListTokens %+v %v, want the 3 tokens in order", list, err)
		}
		if others, err := e.svc.ListTokens(e.ctx, viettel); err != nil || len(others) != 0 {
			t.Fatalf("another user's list %+v %v, want empty", others, err)
		}

		// Another user's token is not found, and stays alive.
		err = e.svc.RevokeToken(e.ctx, viettel, tok.ID)
		wantCode(t, err, infrashare.ENOTFOUND)
		err = e.svc.RevokeToken(e.ctx, vnpt, 999999)
		wantCode(t, err, infrashare.ENOTFOUND)
		if _, err := e.svc.Authenticate(e.ctx, tok.Token); err != nil {
			t.Fatalf("after another user's revoke: %v", err)
		}
		if err := e.svc.RevokeToken(e.ctx, vnpt, tok.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Authenticate(e.ctx, tok.Token)
		wantCode(t, err, infrashare.EUNAUTHORIZED)
		err = e.svc.RevokeToken(e.ctx, vnpt, tok.ID)
		wantCode(t, err, infrashare.ENOTFOUND)
		if list, _ := e.svc.ListTokens(e.ctx, vnpt); len(list) != 2 {
			t.Errorf("%d live tokens after a revoke, want 2", len(list))
		}

		// Expiry: the 2-day token works on day 1 and not after day 2,
		// cached or not.
		if _, err := e.svc.Authenticate(e.ctx, short.Token); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(48*time.Hour - time.Second)
		if _, err := e.svc.Authenticate(e.ctx, short.Token); err != nil {
			t.Fatalf("a second before expiry: %v", err)
		}
		e.clock.Advance(time.Second)
		_, err = e.svc.Authenticate(e.ctx, short.Token)
		wantCode(t, err, infrashare.EUNAUTHORIZED)
		if list, _ := e.svc.ListTokens(e.ctx, vnpt); len(list) != 1 {
			t.Errorf("%d live tokens after the expiry, want 1", len(list))
		}

		if n := len(eventsWith(t, db, "token.create")); n != 3 {
			t.Errorf("%d token.create events, want 3", n)
		}
		rev := eventsWith(t, db, "token.revoke")
		if len(rev) != 1 || rev[0].ObjectID != strconv.FormatInt(tok.ID, 10) {
			t.Errorf("token.revoke events %+v", rev)
		}
		for _, ev := range events(t, db) {
			for _, s := range []*string{ev.Before, ev.After} {
				if s != nil && (strings.Contains(*s, tok.Token) || strings.Contains(*s, auth.HashToken(tok.Token))) {
					t.Errorf("audit event %d carries the token or its hash: %s", ev.Seq, *s)
				}
			}
		}
	})
}

func TestTokenLastUsedAtWrittenAtMostOnceAMinute(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		res := e.login(t, vnptEmail, demoPassword, "192.0.2.1")
		a, err := e.svc.Authenticate(e.ctx, res.Token)
		if err != nil {
			t.Fatal(err)
		}
		first := e.tokenRow(t, a.TokenID).LastUsedAt
		if first == nil || !first.Equal(t0) {
			t.Fatalf("last_used_at %v after the first use, want %v", first, t0)
		}
		// Past the 5 s cache, within the minute: not written again.
		for _, step := range []time.Duration{6 * time.Second, 20 * time.Second, 30 * time.Second} {
			e.clock.Advance(step)
			if _, err := e.svc.Authenticate(e.ctx, res.Token); err != nil {
				t.Fatal(err)
			}
			if got := e.tokenRow(t, a.TokenID).LastUsedAt; got == nil || !got.Equal(t0) {
				t.Fatalf("last_used_at %v at %v, want still %v", got, e.clock.Now(), t0)
			}
		}
		// The actor read at t0+56 s is cached until t0+61 s; at t0+66 s,
		// more than a minute after the stamp, it moves.
		e.clock.Advance(10 * time.Second)
		if _, err := e.svc.Authenticate(e.ctx, res.Token); err != nil {
			t.Fatal(err)
		}
		if got := e.tokenRow(t, a.TokenID).LastUsedAt; got == nil || !got.Equal(t0.Add(66*time.Second)) {
			t.Fatalf("last_used_at %v a minute later, want %v", got, t0.Add(66*time.Second))
		}
		// Shown to the owner.
		list, err := e.svc.ListTokens(e.ctx, a)
		if err != nil || len(list) != 1 || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(t0.Add(66*time.Second)) {
			t.Fatalf("ListTokens %+v %v", list, err)
		}
	})
}

// The token limits are settings: dated rows, the one in force today wins.
func TestTokenLifetimeFollowsTheSettingInForce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newDemoEnv(t, db)
		vnpt := e.actor(t, vnptEmail)
		for _, row := range []map[string]any{
			{"key": "tokens.personal_max_days", "valid_from": "2026-06-01", "value": "30", "legal_basis": "", "updated_at": t0},
			{"key": "tokens.personal_default_days", "valid_from": "2026-06-01", "value": "7", "legal_basis": "", "updated_at": t0},
		} {
			if err := db.Root().Table("settings").Create(row).Error; err != nil {
				t.Fatal(err)
			}
		}
		// In March the defaults of the migration hold: 365 at most, 90 by default.
		tok, err := e.svc.CreateToken(e.ctx, vnpt, auth.NewToken{Name: "march", ExpiresInDays: 200})
		if err != nil {
			t.Fatalf("200 days in March: %v", err)
		}
		if !tok.ExpiresAt.Equal(t0.Add(200 * 24 * time.Hour)) {
			t.Errorf("expires %v, want in 200 days", tok.ExpiresAt)
		}
		e.clock.Advance(100 * 24 * time.Hour) // 10 June
		_, err = e.svc.CreateToken(e.ctx, vnpt, auth.NewToken{Name: "june", ExpiresInDays: 31})
		wantField(t, err, "expires_in_days")
		tok, err = e.svc.CreateToken(e.ctx, vnpt, auth.NewToken{Name: "june default"})
		if err != nil {
			t.Fatal(err)
		}
		if !tok.ExpiresAt.Equal(e.clock.Now().Add(7 * 24 * time.Hour)) {
			t.Errorf("default expiry %v, want in 7 days", tok.ExpiresAt)
		}
	})
}
