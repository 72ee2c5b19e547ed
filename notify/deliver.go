package notify

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm/clause"
)

// claimed is a delivery with everything it takes to deliver it, read in the
// claiming transaction, so that delivering needs no database at all.
type claimed struct {
	delivery
	event outboxEvent
	// orgName is the recipient organisation's name, for the greeting.
	orgName string
	// hook is the webhook of a webhook delivery; nil when it was deleted.
	hook *webhookRow
	// leaseUntil is when this worker's lease ends.
	leaseUntil time.Time
}

// RunOnce delivers what is due now, once: it claims up to one batch of due
// deliveries with a lease (a short transaction of its own), delivers them
// outside any transaction, and marks each one delivered, due again after a
// back-off, or failed. It returns the number of deliveries it claimed.
// Tests call it instead of waiting for Run; it is safe to call from any
// number of workers and replicas at once.
//
// E-mail while SMTP is not configured (the setting notify.smtp has no host):
// such deliveries are not claimed at all, so they cost no attempts and no
// busy loop, and they go out as soon as an admin sets the host. One that
// has waited a week that way is given up (failed_at, last_error "SMTP not
// configured"), so that configuring SMTP months later does not send a flood
// of stale notices.
func (s *Service) RunOnce(ctx context.Context) (int, error) {
	smtpCfg, err := s.smtpSettings(ctx)
	if err != nil {
		return 0, err
	}
	allow, err := s.allowlist(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	if !smtpCfg.configured() {
		if err := s.db.Conn(ctx).Model(&delivery{}).
			Where("channel = ? AND delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at < ? AND (leased_until IS NULL OR leased_until < ?)",
				ChannelEmail, now.Add(-unsentEmailMaxAge), now).
			Updates(map[string]any{"failed_at": now, "last_error": "SMTP not configured", "leased_until": nil}).Error; err != nil {
			return 0, fmt.Errorf("notify: give up unsent e-mail: %w", err)
		}
	}
	batch, err := s.claim(ctx, now, smtpCfg.configured())
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	sem := make(chan struct{}, s.parallelism)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range batch {
		c := &batch[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := s.deliverOne(ctx, c, smtpCfg, allow); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(batch), firstErr
}

// deliverOne sends one claimed delivery and records the outcome; the error
// is about recording it, not about the delivery.
func (s *Service) deliverOne(ctx context.Context, c *claimed, smtpCfg SMTPConfig, allow allowlist) error {
	if s.now().After(c.leaseUntil.Add(-leaseMargin)) {
		// The batch took too long: the lease is about to end and another
		// worker may claim the delivery. Leave it to that worker.
		return nil
	}
	var derr error
	switch c.Channel {
	case ChannelEmail:
		derr = s.sendEmail(ctx, c, smtpCfg)
	case ChannelWebhook:
		derr = s.postWebhook(ctx, c, allow)
	default:
		derr = permanent("unknown channel %q", c.Channel)
	}
	if ctx.Err() != nil {
		// Shutting down: the attempt was cut short and is not the
		// receiver's fault. The lease runs out and another worker retries.
		return nil
	}
	if derr != nil {
		s.log.Warn("notify: delivery failed", "delivery", c.ID, "event", c.EventID, "channel", c.Channel,
			"attempt", c.Attempts+1, "error", derr.Error())
	}
	return s.mark(ctx, c, derr)
}

// claim takes a lease on up to one batch of due deliveries and reads what
// delivering them needs, in one short transaction.
func (s *Service) claim(ctx context.Context, now time.Time, withEmail bool) ([]claimed, error) {
	until := now.Add(LeaseDuration)
	var out []claimed
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		out = nil
		conn := s.db.Conn(ctx)
		q := conn.Model(&delivery{}).
			Where("delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ? AND (leased_until IS NULL OR leased_until < ?)", now, now)
		if !withEmail {
			q = q.Where("channel <> ?", ChannelEmail)
		}
		q = q.Order("next_attempt_at, id").Limit(s.batch)
		if s.db.IsPostgres() {
			// Rows another worker is claiming right now are skipped, not
			// waited for; once it commits, their lease excludes them.
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		var rows []delivery
		if err := q.Find(&rows).Error; err != nil {
			return fmt.Errorf("notify: select due deliveries: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]int64, 0, len(rows))
		eventIDs, orgIDs, hookIDs := map[int64]bool{}, map[int64]bool{}, map[int64]bool{}
		for _, d := range rows {
			ids = append(ids, d.ID)
			eventIDs[d.EventID], orgIDs[d.OrgID] = true, true
			if d.Channel == ChannelWebhook {
				if id, err := strconv.ParseInt(d.Target, 10, 64); err == nil {
					hookIDs[id] = true
				}
			}
		}
		if err := conn.Model(&delivery{}).Where("id IN ?", ids).Update("leased_until", until).Error; err != nil {
			return fmt.Errorf("notify: lease deliveries: %w", err)
		}
		var events []outboxEvent
		if err := conn.Where("id IN ?", keys(eventIDs)).Find(&events).Error; err != nil {
			return fmt.Errorf("notify: read events: %w", err)
		}
		eventByID := map[int64]outboxEvent{}
		for _, e := range events {
			eventByID[e.ID] = e
		}
		var orgs []struct {
			ID   int64
			Name string
		}
		if err := conn.Table("organizations").Select("id, name").Where("id IN ?", keys(orgIDs)).Find(&orgs).Error; err != nil {
			return fmt.Errorf("notify: read organisations: %w", err)
		}
		orgName := map[int64]string{}
		for _, o := range orgs {
			orgName[o.ID] = o.Name
		}
		hookByID := map[int64]*webhookRow{}
		if len(hookIDs) > 0 {
			var hooks []webhookRow
			if err := conn.Where("id IN ?", keys(hookIDs)).Find(&hooks).Error; err != nil {
				return fmt.Errorf("notify: read webhooks: %w", err)
			}
			for i := range hooks {
				hookByID[hooks[i].ID] = &hooks[i]
			}
		}
		for _, d := range rows {
			c := claimed{delivery: d, event: eventByID[d.EventID], orgName: orgName[d.OrgID], leaseUntil: until}
			if d.Channel == ChannelWebhook {
				if id, err := strconv.ParseInt(d.Target, 10, 64); err == nil {
					c.hook = hookByID[id]
				}
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

func keys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// mark records the outcome of one attempt and gives the lease back.
func (s *Service) mark(ctx context.Context, c *claimed, derr error) error {
	now := s.now()
	conn := s.db.Conn(ctx)
	n := c.Attempts + 1
	if derr == nil {
		err := conn.Model(&delivery{}).Where("id = ?", c.ID).
			Updates(map[string]any{"delivered_at": now, "attempts": n, "leased_until": nil, "last_error": ""}).Error
		if err != nil {
			return fmt.Errorf("notify: mark delivery %d delivered: %w", c.ID, err)
		}
		return nil
	}
	upd := map[string]any{"attempts": n, "leased_until": nil, "last_error": errorText(derr)}
	if isPermanent(derr) || n >= MaxAttempts {
		upd["failed_at"] = now
	} else {
		upd["next_attempt_at"] = now.Add(Backoff(n))
	}
	if err := conn.Model(&delivery{}).Where("id = ? AND delivered_at IS NULL", c.ID).Updates(upd).Error; err != nil {
		return fmt.Errorf("notify: mark delivery %d failed: %w", c.ID, err)
	}
	return nil
}

// errorText is what last_error keeps: the cause in at most 500 characters.
// The errors built here never carry a secret, a password or a webhook's
// query string.
func errorText(err error) string {
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500]
		for !utf8.ValidString(msg) {
			msg = msg[:len(msg)-1]
		}
	}
	return msg
}

// DeliveryStatus is the state of one delivery, for operators' dashboards
// and tests.
type DeliveryStatus struct {
	ID            int64      `json:"id"`
	EventID       int64      `json:"event_id"`
	OrgID         int64      `json:"org_id"`
	Channel       string     `json:"channel"`
	Target        string     `json:"target"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	DeliveredAt   *time.Time `json:"delivered_at"`
	FailedAt      *time.Time `json:"failed_at"`
	LastError     string     `json:"last_error"`
}

// Deliveries lists the deliveries of an event, in id order.
func (s *Service) Deliveries(ctx context.Context, eventID int64) ([]DeliveryStatus, error) {
	var rows []delivery
	if err := s.db.Conn(ctx).Where("event_id = ?", eventID).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]DeliveryStatus, 0, len(rows))
	for _, d := range rows {
		out = append(out, DeliveryStatus{ID: d.ID, EventID: d.EventID, OrgID: d.OrgID, Channel: d.Channel, Target: d.Target,
			Attempts: d.Attempts, NextAttemptAt: d.NextAttemptAt, DeliveredAt: d.DeliveredAt, FailedAt: d.FailedAt, LastError: d.LastError})
	}
	return out, nil
}
