package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0004Colocation adds co-location requests (items, events, comments) and
// the notification outbox with its deliveries and the organisations'
// webhooks. Frozen.
func m0004Colocation() *gormigrate.Migration {
	type colocationRequest struct {
		ID             int64     `gorm:"primaryKey"`
		Number         string    `gorm:"type:varchar(32);not null;uniqueIndex"`
		RequesterOrgID int64     `gorm:"not null;index"`
		OwnerOrgID     int64     `gorm:"not null;index"`
		State          string    `gorm:"type:varchar(20);not null;index"`
		Purpose        string    `gorm:"type:varchar(16);not null"`
		Technical      string    `gorm:"type:text;not null"` // JSON
		DesiredStart   *string   `gorm:"type:date"`
		SubmittedAt    time.Time `gorm:"not null"`
		// ReplyDeadline moves later by the time spent in info_requested.
		ReplyDeadline   time.Time `gorm:"not null;index"`
		InfoRequestedAt *time.Time
		AcceptDeadline  *time.Time `gorm:"index"`
		OfferRentVND    *int64     `gorm:"column:offer_rent_vnd"`
		Conditions      string     `gorm:"type:text;not null;default:''"`
		ReasonCode      string     `gorm:"type:varchar(32);not null;default:''"`
		Reason          string     `gorm:"type:text;not null;default:''"`
		// DisputeKind is what a dispute is about: rejection, overdue or terms.
		DisputeKind string `gorm:"type:varchar(16);not null;default:''"`
		// Reserved says the request holds reservations (or, once active,
		// allocations) on its assets.
		Reserved   bool `gorm:"not null;default:false"`
		RemindedAt *time.Time
		Version    int `gorm:"not null;default:1"`
		CreatedAt  time.Time
		UpdatedAt  time.Time
	}
	type colocationItem struct {
		RequestID int64 `gorm:"primaryKey;autoIncrement:false"`
		AssetID   int64 `gorm:"primaryKey;autoIncrement:false;index"`
		Units     int   `gorm:"not null;check:ck_colocation_items_units,units > 0"`
	}
	type colocationEvent struct {
		ID          int64     `gorm:"primaryKey"`
		RequestID   int64     `gorm:"not null;index"`
		At          time.Time `gorm:"not null"`
		ActorUserID *int64
		ActorOrgID  *int64
		Action      string `gorm:"type:varchar(32);not null"`
		FromState   string `gorm:"type:varchar(20);not null;default:''"`
		ToState     string `gorm:"type:varchar(20);not null"`
		ReasonCode  string `gorm:"type:varchar(32);not null;default:''"`
		Reason      string `gorm:"type:text;not null;default:''"`
	}
	type colocationComment struct {
		ID           int64     `gorm:"primaryKey"`
		RequestID    int64     `gorm:"not null;index"`
		At           time.Time `gorm:"not null"`
		AuthorUserID int64     `gorm:"not null"`
		AuthorOrgID  int64     `gorm:"not null"`
		Body         string    `gorm:"type:text;not null"`
	}
	type outboxEvent struct {
		ID         int64     `gorm:"primaryKey"`
		Kind       string    `gorm:"type:varchar(64);not null"`
		ObjectType string    `gorm:"type:varchar(32);not null"`
		ObjectID   string    `gorm:"type:varchar(64);not null"`
		Payload    string    `gorm:"type:text;not null"` // JSON
		CreatedAt  time.Time `gorm:"not null"`
	}
	type delivery struct {
		ID      int64  `gorm:"primaryKey"`
		EventID int64  `gorm:"not null;index"`
		OrgID   int64  `gorm:"not null"`
		Channel string `gorm:"type:varchar(16);not null"` // email or webhook
		// Target is an e-mail address, or a webhook id.
		Target        string    `gorm:"type:varchar(500);not null"`
		Attempts      int       `gorm:"not null;default:0"`
		NextAttemptAt time.Time `gorm:"not null;index:ix_deliveries_due,priority:2"`
		LeasedUntil   *time.Time
		DeliveredAt   *time.Time `gorm:"index:ix_deliveries_due,priority:1"`
		FailedAt      *time.Time
		LastError     string `gorm:"type:text;not null;default:''"`
	}
	type webhook struct {
		ID    int64  `gorm:"primaryKey"`
		OrgID int64  `gorm:"not null;index"`
		URL   string `gorm:"type:varchar(2000);not null"`
		// Secret signs each delivery (HMAC-SHA256); it has to be read back
		// to sign, so unlike passwords and tokens it cannot be hashed.
		Secret    string `gorm:"type:varchar(200);not null"`
		Active    bool   `gorm:"not null;default:true"`
		CreatedBy int64  `gorm:"not null"`
		CreatedAt time.Time
		UpdatedAt time.Time
	}
	return &gormigrate.Migration{
		ID: "0004_colocation",
		Migrate: func(tx *gorm.DB) error {
			for _, t := range []struct {
				name  string
				model any
			}{
				{"colocation_requests", &colocationRequest{}},
				{"colocation_items", &colocationItem{}},
				{"colocation_events", &colocationEvent{}},
				{"colocation_comments", &colocationComment{}},
				{"outbox_events", &outboxEvent{}},
				{"deliveries", &delivery{}},
				{"webhooks", &webhook{}},
			} {
				if err := tx.Table(t.name).Migrator().CreateTable(t.model); err != nil {
					return err
				}
			}
			if dialect(tx) == "postgres" {
				for _, q := range []string{
					`ALTER TABLE colocation_requests ADD CONSTRAINT fk_colocation_requester FOREIGN KEY (requester_org_id) REFERENCES organizations(id)`,
					`ALTER TABLE colocation_requests ADD CONSTRAINT fk_colocation_owner FOREIGN KEY (owner_org_id) REFERENCES organizations(id)`,
					`ALTER TABLE colocation_items ADD CONSTRAINT fk_colocation_items_request FOREIGN KEY (request_id) REFERENCES colocation_requests(id)`,
					`ALTER TABLE colocation_events ADD CONSTRAINT fk_colocation_events_request FOREIGN KEY (request_id) REFERENCES colocation_requests(id)`,
					`ALTER TABLE colocation_comments ADD CONSTRAINT fk_colocation_comments_request FOREIGN KEY (request_id) REFERENCES colocation_requests(id)`,
					`ALTER TABLE deliveries ADD CONSTRAINT fk_deliveries_event FOREIGN KEY (event_id) REFERENCES outbox_events(id)`,
					`ALTER TABLE webhooks ADD CONSTRAINT fk_webhooks_org FOREIGN KEY (org_id) REFERENCES organizations(id)`,
				} {
					if err := tx.Exec(q).Error; err != nil {
						return err
					}
				}
			}
			for _, s := range []settingRow{
				{key: "notify.smtp", validFrom: "2000-01-01", value: `{"host":"","port":25,"from":"infrashare@localhost","username":"","password":"","starttls":false}`},
				{key: "notify.webhook_allowlist", validFrom: "2000-01-01", value: `[]`},
				{key: "notify.reminder_days", validFrom: "2000-01-01", value: `3`},
			} {
				if err := tx.Table("settings").Create(map[string]any{"key": s.key, "valid_from": s.validFrom,
					"value": s.value, "legal_basis": "", "updated_at": time.Now().UTC()}).Error; err != nil {
					return err
				}
			}
			var ps []policy
			for _, r := range []string{"/api/v1/colocation-requests", "/api/v1/colocation-requests/:id"} {
				for _, role := range []string{"operator", "auditor", "admin"} {
					ps = append(ps, p(role, r, "GET"))
				}
			}
			ps = append(ps, p("operator", "/api/v1/colocation-requests", "POST"))
			for _, role := range []string{"operator", "auditor"} {
				ps = append(ps, p(role, "/api/v1/colocation-requests/:id/actions", "POST"),
					p(role, "/api/v1/colocation-requests/:id/comments", "POST"))
			}
			ps = append(ps, p("operator", "/api/v1/webhooks", "GET"), p("operator", "/api/v1/webhooks", "POST"),
				p("operator", "/api/v1/webhooks/:id", "DELETE"))
			return insertPolicies(tx, ps)
		},
	}
}
