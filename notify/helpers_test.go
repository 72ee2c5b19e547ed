package notify_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/netip"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/migrations"
	"infrashare/notify"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// start is when every test clock starts: 10:00 in Can Tho.
var start = time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)

// fixture is a seeded database with a test clock and a notify service.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *database.DB
	clock *infrashare.TestClock
	svc   *notify.Service
	// orgs by code: id and contact e-mail.
	orgID    map[string]int64
	orgEmail map[string]string
}

func newFixture(t *testing.T, db *database.DB, opts ...notify.Option) *fixture {
	t.Helper()
	ctx := dbtest.Context(t)
	if _, err := migrations.SeedDemoAccounts(ctx, db, "demo-password-1"); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, db: db, clock: infrashare.NewTestClock(start), orgID: map[string]int64{}, orgEmail: map[string]string{}}
	f.svc = f.service(db, opts...)
	var orgs []struct {
		ID           int64
		Code         string
		ContactEmail string
	}
	if err := db.Root().WithContext(ctx).Table("organizations").Select("id, code, contact_email").Find(&orgs).Error; err != nil {
		t.Fatal(err)
	}
	for _, o := range orgs {
		f.orgID[o.Code], f.orgEmail[o.Code] = o.ID, o.ContactEmail
	}
	if f.orgEmail["VNPT"] == "" || f.orgEmail["VIETTEL"] == "" {
		t.Fatalf("the demo organisations need contact e-mails: %v", f.orgEmail)
	}
	return f
}

// service is another notify service (another worker) on db with the
// fixture's clock.
func (f *fixture) service(db *database.DB, opts ...notify.Option) *notify.Service {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return notify.New(db, f.clock, auth.NewSettings(db, f.clock), log, opts...)
}

// setSetting writes a setting's value (JSON) as an admin would.
func (f *fixture) setSetting(key, value string) {
	f.t.Helper()
	res := f.db.Root().WithContext(f.ctx).Exec("UPDATE settings SET value = ? WHERE key = ?", value, key)
	if res.Error != nil || res.RowsAffected == 0 {
		f.t.Fatalf("set %s: %v (%d rows)", key, res.Error, res.RowsAffected)
	}
}

func (f *fixture) allowLoopback() { f.setSetting("notify.webhook_allowlist", `["127.0.0.1"]`) }

func (f *fixture) useSMTP(s *smtpServer) {
	f.setSetting("notify.smtp", fmt.Sprintf(`{"host":"127.0.0.1","port":%d,"from":"Infrashare Cần Thơ <thongbao@infrashare.cantho.gov.vn>","username":"","password":"","starttls":false}`, s.port()))
}

// operator is the acting operator staff of an organisation.
func (f *fixture) operator(code string) auth.Actor {
	f.t.Helper()
	var uid int64
	if err := f.db.Root().WithContext(f.ctx).Table("users").Where("org_id = ?", f.orgID[code]).Order("id").Limit(1).Pluck("id", &uid).Error; err != nil || uid == 0 {
		f.t.Fatalf("a user of %s: %v", code, err)
	}
	return auth.Actor{UserID: uid, OrgID: f.orgID[code], OrgCode: code, OrgKind: auth.KindOperator, Roles: []string{auth.RoleOperator}}
}

// webhook registers a webhook of the organisation and returns it with its
// secret.
func (f *fixture) webhook(code, url string) notify.CreatedWebhook {
	f.t.Helper()
	w, err := f.svc.CreateWebhook(f.ctx, f.operator(code), notify.NewWebhook{URL: url})
	if err != nil {
		f.t.Fatalf("register %s: %v", url, err)
	}
	return w
}

// event is a co-location approval told to VNPT and Viettel.
func (f *fixture) event(number string) notify.Event {
	return notify.Event{Kind: "colocation.approve", ObjectType: "colocation_request", ObjectID: "17",
		OrgIDs: []int64{f.orgID["VNPT"], f.orgID["VIETTEL"], f.orgID["VNPT"]},
		Payload: map[string]any{
			"id": 17, "number": number, "state": "approved", "purpose": "bts",
			"requester":      map[string]string{"code": "VIETTEL", "name": "Viettel Cần Thơ"},
			"owner":          map[string]string{"code": "VNPT", "name": "VNPT Cần Thơ"},
			"reply_deadline": "2026-03-17T03:00:00Z", "accept_deadline": "2026-04-01T03:00:00Z",
			"reason": "", "url": "https://infrashare.cantho.gov.vn/colocation-requests/17", "offer_rent_vnd": 12000000,
		}}
}

func (f *fixture) enqueue(e notify.Event) int64 {
	f.t.Helper()
	if err := f.svc.Enqueue(f.ctx, e); err != nil {
		f.t.Fatal(err)
	}
	return f.lastEventID()
}

func (f *fixture) lastEventID() int64 {
	f.t.Helper()
	var id int64
	if err := f.db.Root().WithContext(f.ctx).Table("outbox_events").Order("id DESC").Limit(1).Pluck("id", &id).Error; err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) runOnce() int {
	f.t.Helper()
	n, err := f.svc.RunOnce(f.ctx)
	if err != nil {
		f.t.Fatalf("RunOnce: %v", err)
	}
	return n
}

func (f *fixture) deliveries(eventID int64) []notify.DeliveryStatus {
	f.t.Helper()
	ds, err := f.svc.Deliveries(f.ctx, eventID)
	if err != nil {
		f.t.Fatal(err)
	}
	return ds
}

func (f *fixture) delivery(eventID int64, channel string) notify.DeliveryStatus {
	f.t.Helper()
	for _, d := range f.deliveries(eventID) {
		if d.Channel == channel {
			return d
		}
	}
	f.t.Fatalf("event %d has no %s delivery", eventID, channel)
	return notify.DeliveryStatus{}
}

// smtpServer is an in-process SMTP server that keeps what it receives.
type smtpServer struct {
	t    *testing.T
	ln   net.Listener
	mu   sync.Mutex
	msgs []smtpMessage
	wg   sync.WaitGroup
	// auths are the decoded AUTH PLAIN credentials received.
	auths []string
}

type smtpMessage struct {
	From string
	To   []string
	Data []byte
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{t: t, ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); s.wg.Wait() })
	return s
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewReader(bufio.NewReader(c))
	reply := func(line string) { _, _ = io.WriteString(c, line+"\r\n") }
	reply("220 test.local ESMTP ready")
	var msg smtpMessage
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch verb {
		case "EHLO":
			reply("250-test.local greets you")
			reply("250-8BITMIME")
			reply("250 AUTH PLAIN")
		case "HELO":
			reply("250 test.local")
		case "MAIL":
			msg = smtpMessage{From: between(line, "<", ">")}
			reply("250 2.1.0 OK")
		case "RCPT":
			msg.To = append(msg.To, between(line, "<", ">"))
			reply("250 2.1.5 OK")
		case "DATA":
			reply("354 end data with <CR><LF>.<CR><LF>")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			msg.Data = data
			s.mu.Lock()
			s.msgs = append(s.msgs, msg)
			s.mu.Unlock()
			reply("250 2.0.0 queued")
		case "AUTH":
			parts := strings.Fields(line)
			if len(parts) != 3 || strings.ToUpper(parts[1]) != "PLAIN" {
				reply("504 5.5.4 unrecognised authentication type")
				continue
			}
			cred, _ := base64.StdEncoding.DecodeString(parts[2])
			s.mu.Lock()
			s.auths = append(s.auths, string(cred))
			s.mu.Unlock()
			reply("235 2.7.0 authentication successful")
		case "RSET", "NOOP":
			reply("250 OK")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 not implemented")
		}
	}
}

func between(s, open, close string) string {
	i := strings.Index(s, open)
	j := strings.LastIndex(s, close)
	if i < 0 || j <= i {
		return ""
	}
	return s[i+1 : j]
}

func (s *smtpServer) messages() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage(nil), s.msgs...)
}

// parsedMail is a received message, decoded.
type parsedMail struct {
	Header  mail.Header
	To      string
	From    string
	Subject string
	Body    string
}

func parseMail(t *testing.T, m smtpMessage) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("parse the message: %v\n%s", err, m.Data)
	}
	to, err := mail.ParseAddress(msg.Header.Get("To"))
	if err != nil {
		t.Fatalf("To %q: %v", msg.Header.Get("To"), err)
	}
	from, err := mail.ParseAddress(msg.Header.Get("From"))
	if err != nil {
		t.Fatalf("From %q: %v", msg.Header.Get("From"), err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("Subject %q: %v", msg.Header.Get("Subject"), err)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	return parsedMail{Header: msg.Header, To: to.Address, From: from.Address, Subject: subject, Body: string(body)}
}

// receiver is an in-process webhook receiver that keeps every call and
// answers with the queued statuses (then 200).
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	hits     []hit
	statuses []int
	delay    time.Duration
}

type hit struct {
	Header http.Header
	Body   []byte
	Status int
}

func startReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if r.delay > 0 {
			time.Sleep(r.delay)
		}
		r.mu.Lock()
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.hits = append(r.hits, hit{Header: req.Header.Clone(), Body: body, Status: status})
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/hooks/infrashare?token=receiver-own-secret" }

func (r *receiver) calls() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

func (r *receiver) port() string {
	_, p, _ := net.SplitHostPort(r.srv.Listener.Addr().String())
	return p
}

func decodeWire(t *testing.T, body []byte) notify.WireEvent {
	t.Helper()
	var w notify.WireEvent
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatalf("webhook body %s: %v", body, err)
	}
	return w
}

// fakeResolver answers from a table that a test may change, as a DNS
// server under an attacker's control would.
type fakeResolver struct {
	mu    sync.Mutex
	addrs map[string][]netip.Addr
}

func (r *fakeResolver) set(host string, addrs ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.addrs == nil {
		r.addrs = map[string][]netip.Addr{}
	}
	var as []netip.Addr
	for _, a := range addrs {
		as = append(as, netip.MustParseAddr(a))
	}
	r.addrs[host] = as
}

// LookupNetIP answers names under .example from the table (no such host
// otherwise) and asks the system for any other name, such as localhost.
func (r *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if !strings.HasSuffix(host, ".example") {
		return net.DefaultResolver.LookupNetIP(ctx, network, host)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if as, ok := r.addrs[host]; ok {
		return as, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}
