package notify

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"infrashare"
	"infrashare/auth"
)

// secretPrefix marks webhook signing secrets, so that secret scanners can
// find leaked ones.
const secretPrefix = "whsec_"

// maxWebhooksPerOrg bounds how many webhooks an organisation registers:
// each one multiplies every delivery.
const maxWebhooksPerOrg = 10

// webhookRow is a row of webhooks. The secret is a signing key: it has to
// be read back to sign each delivery (HMAC), so unlike passwords and API
// tokens it is stored as is, never hashed. It leaves the service only once,
// in the answer to its creation, and never reaches a log or the audit log.
type webhookRow struct {
	ID        int64
	OrgID     int64
	URL       string
	Secret    string
	Active    bool
	CreatedBy int64
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt time.Time `gorm:"autoUpdateTime:false"`
}

func (webhookRow) TableName() string { return "webhooks" }

// Webhook is a webhook as its organisation sees it: never the secret.
type Webhook struct {
	ID        int64     `json:"id"`
	URL       string    `json:"url"`
	Active    bool      `json:"active"`
	CreatedBy int64     `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CreatedWebhook is the answer to a registration, the one time the secret
// is shown.
type CreatedWebhook struct {
	Webhook
	// Secret signs every delivery (X-Infrashare-Signature).
	Secret string `json:"secret"`
}

// NewWebhook is the body of POST /api/v1/webhooks.
type NewWebhook struct {
	URL string `json:"url" validate:"required,max=2000"`
}

func (r webhookRow) view() Webhook {
	return Webhook{ID: r.ID, URL: r.URL, Active: r.Active, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// auditView is what the audit log keeps of a webhook: no secret, and the
// URL without its query string, which may hold a credential of the
// receiver's.
func (r webhookRow) auditView() map[string]any {
	u := r.URL
	if p, err := url.Parse(r.URL); err == nil && p.RawQuery != "" {
		p.RawQuery = "redacted"
		u = p.String()
	}
	return map[string]any{"id": r.ID, "org_id": r.OrgID, "url": u, "active": r.Active}
}

// requireIntegrationAdmin: webhooks belong to operators, and their staff
// (role operator) manage them for their own organisation only.
func requireIntegrationAdmin(actor auth.Actor) error {
	if actor.System || actor.OrgID == 0 || actor.OrgKind != auth.KindOperator || !actor.Has(auth.RoleOperator) {
		return infrashare.Forbidden("only an operator's staff manage its webhooks")
	}
	return nil
}

// ListWebhooks lists the actor's organisation's webhooks, without secrets.
func (s *Service) ListWebhooks(ctx context.Context, actor auth.Actor) ([]Webhook, error) {
	if err := requireIntegrationAdmin(actor); err != nil {
		return nil, err
	}
	var rows []webhookRow
	if err := s.db.Conn(ctx).Where("org_id = ?", actor.OrgID).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Webhook, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.view())
	}
	return out, nil
}

// CreateWebhook registers a webhook of the actor's organisation. The URL
// must be http(s) and must not point to an internal address unless the
// allowlist names it (422 on "url"). The secret is generated here and
// returned once.
func (s *Service) CreateWebhook(ctx context.Context, actor auth.Actor, in NewWebhook) (CreatedWebhook, error) {
	if err := requireIntegrationAdmin(actor); err != nil {
		return CreatedWebhook{}, err
	}
	in.URL = strings.TrimSpace(in.URL)
	if err := infrashare.Validate(in); err != nil {
		return CreatedWebhook{}, err
	}
	allow, err := s.allowlist(ctx)
	if err != nil {
		return CreatedWebhook{}, err
	}
	// Resolving the name is network I/O: it happens before the
	// transaction, never inside it.
	if err := s.checkWebhookURL(ctx, in.URL, allow); err != nil {
		return CreatedWebhook{}, err
	}
	secret, err := newSecret()
	if err != nil {
		return CreatedWebhook{}, err
	}
	var out CreatedWebhook
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		var n int64
		if err := s.db.Conn(ctx).Model(&webhookRow{}).Where("org_id = ? AND active = ?", actor.OrgID, true).Count(&n).Error; err != nil {
			return err
		}
		if n >= maxWebhooksPerOrg {
			return infrashare.Conflict("an organisation may register at most %d webhooks; delete one first", maxWebhooksPerOrg)
		}
		now := s.now()
		row := webhookRow{OrgID: actor.OrgID, URL: in.URL, Secret: secret, Active: true, CreatedBy: actor.UserID,
			CreatedAt: now, UpdatedAt: now}
		if err := s.db.Conn(ctx).Create(&row).Error; err != nil {
			return err
		}
		out = CreatedWebhook{Webhook: row.view(), Secret: secret}
		return s.audit.Record(ctx, actor, auth.Change{Action: "webhook.create", ObjectType: "webhook",
			ObjectID: strconv.FormatInt(row.ID, 10), After: row.auditView()})
	})
	if err != nil {
		return CreatedWebhook{}, err
	}
	return out, nil
}

// DeleteWebhook removes a webhook of the actor's organisation (another's is
// not found). Its deliveries not yet made are given up, except one a
// worker holds right now, which finishes.
func (s *Service) DeleteWebhook(ctx context.Context, actor auth.Actor, id int64) error {
	if err := requireIntegrationAdmin(actor); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(ctx context.Context) error {
		conn := s.db.Conn(ctx)
		var row webhookRow
		err := conn.Where("id = ? AND org_id = ?", id, actor.OrgID).First(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return infrashare.NotFound("webhook")
		}
		if err != nil {
			return err
		}
		if err := conn.Where("id = ?", id).Delete(&webhookRow{}).Error; err != nil {
			return err
		}
		now := s.now()
		if err := conn.Model(&delivery{}).
			Where("channel = ? AND target = ? AND delivered_at IS NULL AND failed_at IS NULL AND (leased_until IS NULL OR leased_until < ?)",
				ChannelWebhook, strconv.FormatInt(id, 10), now).
			Updates(map[string]any{"failed_at": now, "last_error": "the webhook was deleted"}).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "webhook.delete", ObjectType: "webhook",
			ObjectID: strconv.FormatInt(id, 10), Before: row.auditView()})
	})
}

// newSecret is 32 random bytes, base64url, with the prefix whsec_.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return secretPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}
