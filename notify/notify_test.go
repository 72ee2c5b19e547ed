package notify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/notify"
)

func TestEnqueueInRolledBackTransactionDeliversNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		mail, rcv := startSMTP(t), startReceiver(t)
		f.useSMTP(mail)
		f.allowLoopback()
		f.webhook("VNPT", rcv.url())
		errRollback := errors.New("the caller's change failed")
		err := db.Tx(f.ctx, func(ctx context.Context) error {
			if err := f.svc.Enqueue(ctx, f.event("YC-2026-00001")); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("Tx: %v", err)
		}
		if n := f.runOnce(); n != 0 {
			t.Errorf("RunOnce claimed %d deliveries of a rolled-back event", n)
		}
		var events, deliveries int64
		db.Root().Table("outbox_events").Count(&events)
		db.Root().Table("deliveries").Count(&deliveries)
		if events != 0 || deliveries != 0 {
			t.Errorf("rolled back: %d events, %d deliveries left", events, deliveries)
		}
		if len(mail.messages()) != 0 || len(rcv.calls()) != 0 {
			t.Errorf("rolled back, yet %d e-mails and %d webhook calls went out", len(mail.messages()), len(rcv.calls()))
		}
	})
}

func TestEnqueueAndDeliver(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		mail, rcv := startSMTP(t), startReceiver(t)
		f.useSMTP(mail)
		f.allowLoopback()
		hook := f.webhook("VNPT", rcv.url())

		// In the caller's transaction, as a co-location transition does.
		if err := db.Tx(f.ctx, func(ctx context.Context) error { return f.svc.Enqueue(ctx, f.event("YC-2026-00042")) }); err != nil {
			t.Fatal(err)
		}
		evID := f.lastEventID()
		ds := f.deliveries(evID)
		if len(ds) != 3 {
			t.Fatalf("deliveries %+v, want e-mail to VNPT and Viettel and VNPT's webhook", ds)
		}
		if n := f.runOnce(); n != 3 {
			t.Fatalf("RunOnce claimed %d, want 3", n)
		}

		// E-mail: one to each organisation's contact, in Vietnamese.
		msgs := mail.messages()
		if len(msgs) != 2 {
			t.Fatalf("%d e-mails, want 2", len(msgs))
		}
		got := map[string]parsedMail{}
		for _, m := range msgs {
			pm := parseMail(t, m)
			if len(m.To) != 1 || m.To[0] != pm.To {
				t.Errorf("envelope recipients %v, header To %s", m.To, pm.To)
			}
			if m.From != "thongbao@infrashare.cantho.gov.vn" || pm.From != m.From {
				t.Errorf("sender: envelope %q, header %q", m.From, pm.From)
			}
			got[pm.To] = pm
		}
		for _, code := range []string{"VNPT", "VIETTEL"} {
			pm, ok := got[f.orgEmail[code]]
			if !ok {
				t.Errorf("no e-mail to %s's contact %s (got %v)", code, f.orgEmail[code], keysOf(got))
				continue
			}
			if want := "[infrashare] Yêu cầu YC-2026-00042 đã được chấp thuận"; pm.Subject != want {
				t.Errorf("subject %q, want %q", pm.Subject, want)
			}
			if raw := pm.Header.Get("Subject"); !strings.HasPrefix(raw, "=?UTF-8?b?") && !strings.HasPrefix(raw, "=?UTF-8?B?") {
				t.Errorf("raw subject %q is not RFC 2047 encoded", raw)
			}
			for _, want := range []string{"Kính gửi", "VNPT Cần Thơ đã chấp thuận yêu cầu", "Số yêu cầu: YC-2026-00042",
				"Hạn chấp nhận đề nghị: 10:00 ngày 01/04/2026", "Giá thuê đề nghị: 12.000.000 đồng/năm",
				"https://infrashare.cantho.gov.vn/colocation-requests/17"} {
				if !strings.Contains(pm.Body, want) {
					t.Errorf("body lacks %q:\n%s", want, pm.Body)
				}
			}
			if ct := pm.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if pm.Header.Get("Date") == "" || !strings.HasPrefix(pm.Header.Get("Message-ID"), "<") {
				t.Errorf("Date %q, Message-ID %q", pm.Header.Get("Date"), pm.Header.Get("Message-ID"))
			}
		}

		// Webhook: signed with the secret, the event id in a header.
		calls := rcv.calls()
		if len(calls) != 1 {
			t.Fatalf("%d webhook calls, want 1", len(calls))
		}
		c := calls[0]
		ts := c.Header.Get(notify.HeaderTimestamp)
		if !notify.VerifySignature(hook.Secret, ts, c.Body, c.Header.Get(notify.HeaderSignature)) {
			t.Errorf("signature %q does not verify with the secret", c.Header.Get(notify.HeaderSignature))
		}
		if notify.VerifySignature("whsec_wrong", ts, c.Body, c.Header.Get(notify.HeaderSignature)) {
			t.Error("signature verifies with a wrong secret")
		}
		if ts != strconv.FormatInt(f.clock.Now().Unix(), 10) {
			t.Errorf("timestamp %q", ts)
		}
		w := decodeWire(t, c.Body)
		if want := "evt_" + strconv.FormatInt(evID, 10); w.ID != want || c.Header.Get(notify.HeaderEventID) != want {
			t.Errorf("event id: body %q, header %q, want %q", w.ID, c.Header.Get(notify.HeaderEventID), want)
		}
		if ct := c.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if w.Kind != "colocation.approve" || w.ObjectType != "colocation_request" || w.ObjectID != "17" {
			t.Errorf("event %+v", w)
		}
		if at, err := time.Parse(time.RFC3339, w.OccurredAt); err != nil || !at.Equal(start) || !strings.HasSuffix(w.OccurredAt, "Z") {
			t.Errorf("occurred_at %q", w.OccurredAt)
		}
		if !strings.Contains(string(w.Data), `"number":"YC-2026-00042"`) {
			t.Errorf("data %s", w.Data)
		}

		for _, d := range f.deliveries(evID) {
			if d.DeliveredAt == nil || d.FailedAt != nil || d.Attempts != 1 || d.LastError != "" {
				t.Errorf("delivery %+v not marked delivered", d)
			}
		}
		// Nothing is delivered twice.
		f.clock.Advance(2 * time.Hour)
		if n := f.runOnce(); n != 0 {
			t.Errorf("a second round claimed %d", n)
		}
		if len(mail.messages()) != 2 || len(rcv.calls()) != 1 {
			t.Errorf("after a second round: %d e-mails, %d calls", len(mail.messages()), len(rcv.calls()))
		}
	})
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestWebhookRetriedAfterBackoff(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		rcv := startReceiver(t, 500)
		f.allowLoopback()
		f.webhook("VNPT", rcv.url())
		evID := f.enqueue(f.event("YC-2026-00007"))

		if n := f.runOnce(); n != 1 { // SMTP is not configured: only the webhook
			t.Fatalf("claimed %d, want the webhook only", n)
		}
		d := f.delivery(evID, notify.ChannelWebhook)
		if d.DeliveredAt != nil || d.FailedAt != nil || d.Attempts != 1 || !strings.Contains(d.LastError, "HTTP 500") {
			t.Fatalf("after a 500: %+v", d)
		}
		if want := start.Add(10 * time.Second); !d.NextAttemptAt.Equal(want) {
			t.Errorf("next attempt %s, want %s", d.NextAttemptAt, want)
		}
		if strings.Contains(d.LastError, "receiver-own-secret") {
			t.Errorf("last_error shows the URL's query: %q", d.LastError)
		}

		f.clock.Advance(9 * time.Second)
		if n := f.runOnce(); n != 0 {
			t.Errorf("retried %d before the back-off ended", n)
		}
		f.clock.Advance(2 * time.Second)
		if n := f.runOnce(); n != 1 {
			t.Fatalf("claimed %d after the back-off, want 1", n)
		}
		d = f.delivery(evID, notify.ChannelWebhook)
		if d.DeliveredAt == nil || d.Attempts != 2 || d.LastError != "" {
			t.Errorf("after a 200: %+v", d)
		}
		calls := rcv.calls()
		if len(calls) != 2 || calls[0].Status != 500 || calls[1].Status != 200 {
			t.Fatalf("calls %+v", calls)
		}
		if calls[0].Header.Get(notify.HeaderEventID) != calls[1].Header.Get(notify.HeaderEventID) {
			t.Error("a retry carries another event id")
		}
		f.clock.Advance(time.Hour)
		if n := f.runOnce(); n != 0 || len(rcv.calls()) != 2 {
			t.Errorf("delivered again: claimed %d, %d calls", n, len(rcv.calls()))
		}
	})
}

func TestWebhookRedirectNotFollowed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		target := startReceiver(t)
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.url(), http.StatusTemporaryRedirect)
		}))
		t.Cleanup(redirector.Close)
		f.allowLoopback()
		f.webhook("VNPT", redirector.URL+"/hook")
		evID := f.enqueue(f.event("YC-2026-00015"))
		if n := f.runOnce(); n != 1 {
			t.Fatalf("claimed %d", n)
		}
		if d := f.delivery(evID, notify.ChannelWebhook); d.DeliveredAt != nil || !strings.Contains(d.LastError, "HTTP 307") {
			t.Errorf("after a redirect: %+v", d)
		}
		if len(target.calls()) != 0 {
			t.Error("the redirect was followed")
		}
	})
}

func TestWebhookGivenUpAfterTenAttempts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		statuses := make([]int, 20)
		for i := range statuses {
			statuses[i] = 503
		}
		rcv := startReceiver(t, statuses...)
		f.allowLoopback()
		f.webhook("VNPT", rcv.url())
		evID := f.enqueue(f.event("YC-2026-00008"))
		for i := 1; i <= notify.MaxAttempts; i++ {
			if n := f.runOnce(); n != 1 {
				t.Fatalf("attempt %d: claimed %d", i, n)
			}
			d := f.delivery(evID, notify.ChannelWebhook)
			if d.Attempts != i {
				t.Fatalf("attempt %d: %+v", i, d)
			}
			if i < notify.MaxAttempts {
				if d.FailedAt != nil {
					t.Fatalf("failed after %d attempts", i)
				}
				if want := f.clock.Now().Add(notify.Backoff(i)); !d.NextAttemptAt.Equal(want) {
					t.Errorf("attempt %d: next %s, want %s", i, d.NextAttemptAt, want)
				}
				f.clock.Advance(notify.Backoff(i))
			} else if d.FailedAt == nil || !strings.Contains(d.LastError, "HTTP 503") {
				t.Errorf("after %d attempts: %+v", i, d)
			}
		}
		f.clock.Advance(24 * time.Hour)
		if n := f.runOnce(); n != 0 || len(rcv.calls()) != notify.MaxAttempts {
			t.Errorf("a failed delivery went on: claimed %d, %d calls", n, len(rcv.calls()))
		}
	})
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second,
		9: 2560 * time.Second, 10: time.Hour, 30: time.Hour} {
		if got := notify.Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestEmailWaitsForSMTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		mail := startSMTP(t)
		evID := f.enqueue(f.event("YC-2026-00009"))
		// No host: the e-mails are not claimed, cost no attempt.
		if n := f.runOnce(); n != 0 {
			t.Fatalf("claimed %d e-mails without SMTP", n)
		}
		for _, d := range f.deliveries(evID) {
			if d.Attempts != 0 || d.FailedAt != nil || d.DeliveredAt != nil {
				t.Errorf("without SMTP: %+v", d)
			}
		}
		// Once an admin sets SMTP up, they go out.
		f.clock.Advance(time.Hour)
		f.useSMTP(mail)
		if n := f.runOnce(); n != 2 || len(mail.messages()) != 2 {
			t.Fatalf("with SMTP: claimed %d, %d e-mails", n, len(mail.messages()))
		}

		// Without SMTP for over a week, an e-mail is given up.
		f.setSetting("notify.smtp", `{"host":"","port":25,"from":"infrashare@localhost","username":"","password":"","starttls":false}`)
		ev2 := f.enqueue(f.event("YC-2026-00010"))
		f.clock.Advance(8 * 24 * time.Hour)
		if n := f.runOnce(); n != 0 {
			t.Errorf("claimed %d", n)
		}
		for _, d := range f.deliveries(ev2) {
			if d.FailedAt == nil || d.LastError != "SMTP not configured" || d.Attempts != 0 {
				t.Errorf("stale e-mail: %+v", d)
			}
		}
	})
}

func TestSMTPErrorIsRetried(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		mail := startSMTP(t)
		port := mail.port()
		_ = mail.ln.Close() // nobody listens there any more
		f.setSetting("notify.smtp", fmt.Sprintf(`{"host":"127.0.0.1","port":%d,"from":"infrashare@example.vn","username":"mailer","password":"smtp-password-42","starttls":false}`, port))
		evID := f.enqueue(f.event("YC-2026-00011"))
		if n := f.runOnce(); n != 2 {
			t.Fatalf("claimed %d", n)
		}
		for _, d := range f.deliveries(evID) {
			if d.DeliveredAt != nil || d.FailedAt != nil || d.Attempts != 1 || d.LastError == "" {
				t.Errorf("after a refused connection: %+v", d)
			}
			if strings.Contains(d.LastError, "smtp-password-42") {
				t.Errorf("last_error shows the password: %q", d.LastError)
			}
		}
	})
}

func TestSMTPAuthentication(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		mail := startSMTP(t)
		f.setSetting("notify.smtp", fmt.Sprintf(`{"host":"127.0.0.1","port":%d,"from":"infrashare@example.vn","username":"mailer","password":"smtp-password-42","starttls":false}`, mail.port()))
		e := f.event("YC-2026-00014")
		e.OrgIDs = []int64{f.orgID["VIETTEL"]}
		f.enqueue(e)
		if n := f.runOnce(); n != 1 || len(mail.messages()) != 1 {
			t.Fatalf("claimed %d, %d e-mails", n, len(mail.messages()))
		}
		mail.mu.Lock()
		defer mail.mu.Unlock()
		if len(mail.auths) != 1 || mail.auths[0] != "\x00mailer\x00smtp-password-42" {
			t.Errorf("AUTH PLAIN credentials %q", mail.auths)
		}
	})
}

// TestTwoWorkersDeliverOnce runs two workers (two services; on PostgreSQL
// each on its own connection pool, as two replicas) at once over the same
// deliveries: each is delivered exactly once.
func TestTwoWorkersDeliverOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, notify.WithBatchSize(4), notify.WithParallelism(3))
		mail, rcv := startSMTP(t), startReceiver(t)
		rcv.delay = 3 * time.Millisecond
		f.useSMTP(mail)
		f.allowLoopback()
		f.webhook("VNPT", rcv.url())
		db2 := db
		if db.IsPostgres() {
			var err error
			db2, err = database.Open(f.ctx, db.URL(), database.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db2.Close() })
		}
		w2 := f.service(db2, notify.WithBatchSize(4), notify.WithParallelism(3))
		const events = 24
		for i := 0; i < events; i++ {
			e := f.event(fmt.Sprintf("YC-2026-%05d", 100+i))
			e.OrgIDs = []int64{f.orgID["VNPT"]} // one e-mail, one webhook
			f.enqueue(e)
		}
		var wg sync.WaitGroup
		claimed := make([]int, 2)
		for i, w := range []*notify.Service{f.svc, w2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for idle := 0; idle < 3; {
					n, err := w.RunOnce(f.ctx)
					if err != nil {
						t.Errorf("worker %d: %v", i, err)
						return
					}
					claimed[i] += n
					if n == 0 {
						idle++
						time.Sleep(5 * time.Millisecond)
					} else {
						idle = 0
					}
				}
			}()
		}
		wg.Wait()
		if n := f.runOnce(); n != 0 {
			t.Errorf("%d deliveries left over", n)
		}
		t.Logf("claimed: worker 1 %d, worker 2 %d", claimed[0], claimed[1])
		if claimed[0]+claimed[1] != 2*events {
			t.Errorf("claimed %d in all, want %d", claimed[0]+claimed[1], 2*events)
		}
		perEvent := map[string]int{}
		for _, c := range rcv.calls() {
			perEvent[c.Header.Get(notify.HeaderEventID)]++
		}
		perMessage := map[string]int{}
		for _, m := range mail.messages() {
			perMessage[parseMail(t, m).Header.Get("Message-ID")]++
		}
		if len(perEvent) != events || len(perMessage) != events {
			t.Errorf("%d events reached the receiver, %d e-mails sent; want %d each", len(perEvent), len(perMessage), events)
		}
		for id, n := range perEvent {
			if n != 1 {
				t.Errorf("event %s delivered %d times", id, n)
			}
		}
		for id, n := range perMessage {
			if n != 1 {
				t.Errorf("e-mail %s sent %d times", id, n)
			}
		}
	})
}

func TestRegistrationRefusesInternalAddresses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		res := &fakeResolver{}
		res.set("hooks.vnpt.example", "203.0.113.20")
		res.set("internal.vnpt.example", "203.0.113.21", "10.1.2.3")
		f := newFixture(t, db, notify.WithResolver(res))
		op := f.operator("VNPT")
		for _, u := range []string{
			"http://127.0.0.1/hook", "http://127.0.0.1:8080/hook", "http://10.0.0.5/", "https://172.16.4.4/x",
			"https://192.168.1.10/x", "http://[::1]:9000/", "http://169.254.169.254/latest/meta-data/",
			"http://100.64.1.1/", "http://0.0.0.0/", "http://[fd00::1]/", "http://[::ffff:127.0.0.1]/",
			"http://224.0.0.1/", "http://internal.vnpt.example/", "http://nowhere.vnpt.example/",
			"ftp://203.0.113.5/", "203.0.113.5/hook", "https://user:pw@203.0.113.5/", "https:///nohost", "",
		} {
			_, err := f.svc.CreateWebhook(f.ctx, op, notify.NewWebhook{URL: u})
			var e *infrashare.Error
			if !errors.As(err, &e) || e.Code != infrashare.EINVALID || e.Fields["url"] == "" {
				t.Errorf("%q: %v, want a validation error on url", u, err)
			}
		}
		for _, u := range []string{"https://203.0.113.10/hook", "https://hooks.vnpt.example/infrashare"} {
			if _, err := f.svc.CreateWebhook(f.ctx, op, notify.NewWebhook{URL: u}); err != nil {
				t.Errorf("%q: %v", u, err)
			}
		}
		// An admin allows the loopback address, a private range, a name.
		f.setSetting("notify.webhook_allowlist", `["127.0.0.1", "10.0.0.0/8", "internal.vnpt.example"]`)
		for _, u := range []string{"http://127.0.0.1:8080/hook", "http://10.0.0.5/", "http://internal.vnpt.example/"} {
			if _, err := f.svc.CreateWebhook(f.ctx, op, notify.NewWebhook{URL: u}); err != nil {
				t.Errorf("allowlisted %q: %v", u, err)
			}
		}
		if _, err := f.svc.CreateWebhook(f.ctx, op, notify.NewWebhook{URL: "http://192.168.1.10/"}); infrashare.ErrorCode(err) != infrashare.EINVALID {
			t.Errorf("192.168.1.10 beside the allowlist: %v", err)
		}
	})
}

func TestWebhookAccess(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		vnpt, viettel := f.operator("VNPT"), f.operator("VIETTEL")
		created := f.webhook("VNPT", "https://203.0.113.10/hook?token=abc")
		if !strings.HasPrefix(created.Secret, "whsec_") || len(created.Secret) != len("whsec_")+43 {
			t.Errorf("secret %q", created.Secret)
		}
		for _, a := range []auth.Actor{
			{UserID: 1, OrgID: f.orgID["DEPT"], OrgKind: auth.KindDepartment, Roles: []string{auth.RoleAuditor}},
			{UserID: 1, OrgID: f.orgID["ADMIN"], OrgKind: auth.KindAdmin, Roles: []string{auth.RoleAdmin}},
			{UserID: 1, OrgID: f.orgID["UBND-NK"], OrgKind: auth.KindAuthority, Roles: []string{auth.RoleOfficer}},
			auth.SystemActor,
		} {
			if _, err := f.svc.CreateWebhook(f.ctx, a, notify.NewWebhook{URL: "https://203.0.113.10/"}); infrashare.ErrorCode(err) != infrashare.EFORBIDDEN {
				t.Errorf("create as %v: %v", a.Roles, err)
			}
			if _, err := f.svc.ListWebhooks(f.ctx, a); infrashare.ErrorCode(err) != infrashare.EFORBIDDEN {
				t.Errorf("list as %v: %v", a.Roles, err)
			}
			if err := f.svc.DeleteWebhook(f.ctx, a, created.ID); infrashare.ErrorCode(err) != infrashare.EFORBIDDEN {
				t.Errorf("delete as %v: %v", a.Roles, err)
			}
		}
		if l, err := f.svc.ListWebhooks(f.ctx, viettel); err != nil || len(l) != 0 {
			t.Errorf("Viettel sees %v, %v", l, err)
		}
		if err := f.svc.DeleteWebhook(f.ctx, viettel, created.ID); infrashare.ErrorCode(err) != infrashare.ENOTFOUND {
			t.Errorf("Viettel deletes VNPT's webhook: %v", err)
		}
		l, err := f.svc.ListWebhooks(f.ctx, vnpt)
		if err != nil || len(l) != 1 || l[0].ID != created.ID || l[0].URL != "https://203.0.113.10/hook?token=abc" {
			t.Fatalf("VNPT lists %+v, %v", l, err)
		}
		// A pending delivery to a deleted webhook is given up.
		evID := f.enqueue(f.event("YC-2026-00012"))
		if err := f.svc.DeleteWebhook(f.ctx, vnpt, created.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteWebhook(f.ctx, vnpt, created.ID); infrashare.ErrorCode(err) != infrashare.ENOTFOUND {
			t.Errorf("second delete: %v", err)
		}
		if d := f.delivery(evID, notify.ChannelWebhook); d.FailedAt == nil || !strings.Contains(d.LastError, "deleted") {
			t.Errorf("delivery to a deleted webhook: %+v", d)
		}
		// Audited, without the secret or the URL's query.
		var rows []struct {
			Action string
			Before *string
			After  *string
		}
		if err := db.Root().Table("audit_events").Where("object_type = ?", "webhook").Order("seq").Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].Action != "webhook.create" || rows[1].Action != "webhook.delete" {
			t.Fatalf("audit %+v", rows)
		}
		for _, r := range rows {
			for _, s := range []*string{r.Before, r.After} {
				if s != nil && (strings.Contains(*s, created.Secret) || strings.Contains(*s, "token=abc")) {
					t.Errorf("audit event %s holds a secret: %s", r.Action, *s)
				}
			}
		}
	})
}

// TestDeliveryRefusesInternalAddress: the address is checked again when
// the webhook is called, so a name that points inside after registration
// (DNS rebinding) is refused, recorded as an error, and not delivered.
func TestDeliveryRefusesInternalAddress(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		res := &fakeResolver{}
		res.set("hooks.vnpt.example", "203.0.113.20")
		f := newFixture(t, db, notify.WithResolver(res))
		rcv := startReceiver(t)
		rebound := f.webhook("VNPT", "http://hooks.vnpt.example:"+rcv.port()+"/hook")
		res.set("hooks.vnpt.example", "127.0.0.1") // rebound to the receiver on loopback
		// A row written straight into the table, as if the check had been
		// passed some other way.
		now := f.clock.Now()
		if err := db.Root().Exec("INSERT INTO webhooks (org_id, url, secret, active, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			f.orgID["VIETTEL"], "http://localhost:"+rcv.port()+"/hook", "whsec_direct", true, f.operator("VIETTEL").UserID, now, now).Error; err != nil {
			t.Fatal(err)
		}
		evID := f.enqueue(f.event("YC-2026-00013"))
		if n := f.runOnce(); n != 2 {
			t.Fatalf("claimed %d, want both webhooks", n)
		}
		if calls := rcv.calls(); len(calls) != 0 {
			t.Fatalf("the receiver on loopback got %d calls", len(calls))
		}
		for _, d := range f.deliveries(evID) {
			if d.Channel != notify.ChannelWebhook {
				continue
			}
			if d.DeliveredAt != nil || d.Attempts != 1 || !strings.Contains(d.LastError, "refused") {
				t.Errorf("delivery to webhook %s: %+v", d.Target, d)
			}
		}
		// Allowed again by the allowlist, both go out at the next attempt.
		f.setSetting("notify.webhook_allowlist", `["127.0.0.1", "::1"]`)
		f.clock.Advance(notify.Backoff(1))
		if n := f.runOnce(); n != 2 || len(rcv.calls()) != 2 {
			t.Fatalf("allowlisted: claimed %d, %d calls", n, len(rcv.calls()))
		}
		for _, c := range rcv.calls() {
			ts, sig := c.Header.Get(notify.HeaderTimestamp), c.Header.Get(notify.HeaderSignature)
			if !notify.VerifySignature("whsec_direct", ts, c.Body, sig) && !notify.VerifySignature(rebound.Secret, ts, c.Body, sig) {
				t.Error("a call is signed with neither secret")
			}
		}
	})
}

func TestEnqueueChecksItsEvent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		if err := f.svc.Enqueue(f.ctx, notify.Event{}); err == nil {
			t.Error("an event without a kind was accepted")
		}
		if err := f.svc.Enqueue(f.ctx, notify.Event{Kind: "colocation.comment", ObjectType: "colocation_request", ObjectID: "1",
			OrgIDs: []int64{f.orgID["VNPT"], 999999}, Payload: func() {}}); err == nil {
			t.Error("a payload that is not JSON was accepted")
		}
		// Unknown organisations and no payload are fine.
		if err := f.svc.Enqueue(f.ctx, notify.Event{Kind: "system.test", OrgIDs: []int64{999999}}); err != nil {
			t.Error(err)
		}
		if ds := f.deliveries(f.lastEventID()); len(ds) != 0 {
			t.Errorf("deliveries to nobody: %+v", ds)
		}
		days, err := f.svc.ReminderDays(f.ctx)
		if err != nil || days != 3 {
			t.Errorf("ReminderDays = %d, %v", days, err)
		}
	})
}

func TestRunDeliversUntilCancelled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, notify.WithInterval(10*time.Millisecond))
		rcv := startReceiver(t)
		f.allowLoopback()
		f.webhook("VNPT", rcv.url())
		ctx, cancel := context.WithCancel(f.ctx)
		done := make(chan struct{})
		go func() { defer close(done); f.svc.Run(ctx) }()
		f.enqueue(f.event("YC-2026-00016"))
		deadline := time.Now().Add(10 * time.Second)
		for len(rcv.calls()) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not stop when its context ended")
		}
		if len(rcv.calls()) != 1 {
			t.Errorf("%d calls, want 1", len(rcv.calls()))
		}
	})
}
