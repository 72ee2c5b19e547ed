// Package notify tells organisations what happened: each change that
// matters writes an event to the outbox in the same transaction, and
// workers deliver it by e-mail and to the organisations' webhooks, at least
// once, without ever holding a transaction across a network call.
//
// The flow:
//
//   - Enqueue, inside the caller's transaction, writes one outbox_events row
//     and one deliveries row per channel of each recipient organisation: an
//     e-mail to its contact address and a POST to each of its active
//     webhooks. It does no network I/O, so it never slows the request that
//     caused the event, and a rolled-back transaction leaves nothing behind.
//   - RunOnce (called every second by Run, in every replica) claims due
//     deliveries with a lease in a short transaction of its own (on
//     PostgreSQL SELECT … FOR UPDATE SKIP LOCKED, then UPDATE … SET
//     leased_until), commits, delivers outside any transaction, then marks
//     each delivery delivered, or due again after a back-off, or failed.
//     While a lease holds no other worker touches the delivery; a worker that
//     dies mid-delivery loses its lease after a minute and another retries,
//     so delivery is at least once. Receivers de-duplicate on the event id.
package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
)

// Channels of a delivery.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
)

// Delivery policy.
const (
	// LeaseDuration is how long a claimed delivery stays with its worker.
	LeaseDuration = 60 * time.Second
	// MaxAttempts is how many failed attempts turn a delivery failed.
	MaxAttempts = 10
	// firstBackoff doubles with each failed attempt, up to maxBackoff.
	firstBackoff = 10 * time.Second
	maxBackoff   = time.Hour
	// leaseMargin: a worker does not start a delivery whose lease ends
	// within this margin, longer than any one delivery may take (SMTP 30 s,
	// a webhook 10 s), so that no delivery runs past its lease and two
	// workers never deliver one delivery while a lease holds. A batch slowed
	// down that much leaves its rest to be claimed again after the lease.
	leaseMargin = 35 * time.Second
	// unsentEmailMaxAge: e-mail waiting for SMTP to be configured is given
	// up after this long (see RunOnce).
	unsentEmailMaxAge = 7 * 24 * time.Hour
	// webhookTimeout bounds one webhook call, from dial to the last byte.
	webhookTimeout = 10 * time.Second
	// smtpDialTimeout bounds the SMTP dial; smtpTimeout the whole exchange,
	// dial included.
	smtpDialTimeout = 10 * time.Second
	smtpTimeout     = 30 * time.Second
)

// Service enqueues events, delivers them and manages webhooks.
type Service struct {
	db       *database.DB
	clock    infrashare.Clock
	settings *auth.Settings
	log      *slog.Logger
	audit    *auth.Audit

	interval    time.Duration
	batch       int
	parallelism int
	http        *http.Client
	resolver    Resolver
}

// Option tunes New.
type Option func(*Service)

// WithInterval sets how often Run looks for due deliveries (default 1 s).
func WithInterval(d time.Duration) Option {
	return func(s *Service) {
		if d > 0 {
			s.interval = d
		}
	}
}

// WithBatchSize sets how many deliveries one RunOnce claims at most
// (default 32).
func WithBatchSize(n int) Option {
	return func(s *Service) {
		if n > 0 {
			s.batch = n
		}
	}
}

// WithParallelism sets how many deliveries of a batch go out at once
// (default 8).
func WithParallelism(n int) Option {
	return func(s *Service) {
		if n > 0 {
			s.parallelism = n
		}
	}
}

// Resolver looks up the addresses of a host name; net.DefaultResolver is
// one. Tests may substitute another to simulate DNS rebinding.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// WithResolver replaces the DNS resolver of the webhook URL checks.
func WithResolver(r Resolver) Option {
	return func(s *Service) {
		if r != nil {
			s.resolver = r
		}
	}
}

// New returns the notification service.
func New(db *database.DB, clock infrashare.Clock, settings *auth.Settings, log *slog.Logger, opts ...Option) *Service {
	if clock == nil {
		clock = infrashare.SystemClock{}
	}
	if settings == nil {
		settings = auth.NewSettings(db, clock)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Service{db: db, clock: clock, settings: settings, log: log, audit: auth.NewAudit(db, clock),
		interval: time.Second, batch: 32, parallelism: 8, resolver: net.DefaultResolver}
	for _, o := range opts {
		o(s)
	}
	s.http = s.newHTTPClient()
	return s
}

// Event is something organisations are told about.
type Event struct {
	// Kind names what happened, such as colocation.approve.
	Kind       string
	ObjectType string
	ObjectID   string
	// OrgIDs are the organisations to tell.
	OrgIDs []int64
	// Payload is the event's data, sent as JSON.
	Payload any
}

// outboxEvent is a row of outbox_events: what happened, once, whoever is
// told.
type outboxEvent struct {
	ID         int64
	Kind       string
	ObjectType string
	ObjectID   string
	// Payload is the canonical JSON of Event.Payload.
	Payload   string
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
}

func (outboxEvent) TableName() string { return "outbox_events" }

// delivery is a row of deliveries: one event to one channel of one
// organisation.
type delivery struct {
	ID      int64
	EventID int64
	OrgID   int64
	Channel string
	// Target is the e-mail address, or the webhook id.
	Target        string
	Attempts      int
	NextAttemptAt time.Time
	LeasedUntil   *time.Time
	DeliveredAt   *time.Time
	FailedAt      *time.Time
	LastError     string
}

func (delivery) TableName() string { return "deliveries" }

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// Enqueue writes e to the outbox in ctx's transaction (in a transaction of
// its own when ctx carries none): the event row, and a delivery for the
// contact e-mail (when set) and for each active webhook of every
// organisation in e.OrgIDs, due now. It does no network I/O: the workers
// deliver after the transaction commits, and a rollback takes the event
// with it.
func (s *Service) Enqueue(ctx context.Context, e Event) error {
	if !database.InTx(ctx) {
		return s.db.Tx(ctx, func(ctx context.Context) error { return s.Enqueue(ctx, e) })
	}
	switch {
	case e.Kind == "" || len(e.Kind) > 64:
		return fmt.Errorf("notify: event kind %q must have 1 to 64 characters", e.Kind)
	case len(e.ObjectType) > 32 || len(e.ObjectID) > 64:
		return fmt.Errorf("notify: event %s: object type or id too long", e.Kind)
	}
	payload, err := auth.CanonicalJSON(e.Payload)
	if err != nil {
		return fmt.Errorf("notify: event %s: %w", e.Kind, err)
	}
	if payload == nil {
		empty := "{}"
		payload = &empty
	}
	now := s.now()
	ev := outboxEvent{Kind: e.Kind, ObjectType: e.ObjectType, ObjectID: e.ObjectID, Payload: *payload, CreatedAt: now}
	conn := s.db.Conn(ctx)
	if err := conn.Create(&ev).Error; err != nil {
		return fmt.Errorf("notify: write the outbox event: %w", err)
	}
	orgIDs := uniqueIDs(e.OrgIDs)
	if len(orgIDs) == 0 {
		return nil
	}
	var orgs []struct {
		ID           int64
		ContactEmail string
	}
	if err := conn.Table("organizations").Select("id, contact_email").Where("id IN ?", orgIDs).
		Order("id").Find(&orgs).Error; err != nil {
		return fmt.Errorf("notify: read the recipients: %w", err)
	}
	var hooks []struct {
		ID    int64
		OrgID int64
	}
	if err := conn.Table("webhooks").Select("id, org_id").Where("org_id IN ? AND active = ?", orgIDs, true).
		Order("id").Find(&hooks).Error; err != nil {
		return fmt.Errorf("notify: read the recipients' webhooks: %w", err)
	}
	var ds []delivery
	for _, o := range orgs {
		if addr := strings.TrimSpace(o.ContactEmail); addr != "" {
			ds = append(ds, delivery{EventID: ev.ID, OrgID: o.ID, Channel: ChannelEmail, Target: addr, NextAttemptAt: now})
		}
	}
	for _, h := range hooks {
		ds = append(ds, delivery{EventID: ev.ID, OrgID: h.OrgID, Channel: ChannelWebhook,
			Target: strconv.FormatInt(h.ID, 10), NextAttemptAt: now})
	}
	if len(ds) == 0 {
		return nil
	}
	if err := conn.Create(&ds).Error; err != nil {
		return fmt.Errorf("notify: write the deliveries: %w", err)
	}
	return nil
}

func uniqueIDs(ids []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, id := range ids {
		if id > 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ReminderDays is how many days before a deadline the parties are reminded
// (the setting notify.reminder_days, default 3).
func (s *Service) ReminderDays(ctx context.Context) (int, error) {
	days := 3
	if err := s.settings.Get(ctx, "notify.reminder_days", &days); err != nil {
		return 0, err
	}
	if days < 0 {
		days = 0
	}
	return days, nil
}

// Run delivers due events until ctx ends: it calls RunOnce every interval
// (1 s by default), and again at once while batches come back full.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		n, err := s.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("notify: delivery round failed", "error", err.Error())
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil && n >= s.batch {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Backoff is the wait after the n-th failed attempt (n from 1): 10 s,
// doubling, at most an hour.
func Backoff(n int) time.Duration {
	d := firstBackoff
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	if d > maxBackoff {
		d = maxBackoff
	}
	return d
}

// permanentError is a failure that no retry can fix, such as a deleted
// webhook: the delivery is marked failed at once.
type permanentError struct{ msg string }

func (e permanentError) Error() string { return e.msg }

func permanent(format string, args ...any) error {
	return permanentError{msg: fmt.Sprintf(format, args...)}
}

func isPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
