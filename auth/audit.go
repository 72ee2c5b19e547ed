package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"infrashare"
	"infrashare/database"
)

// AuditEvent is one row of the append-only, hash-chained audit log.
type AuditEvent struct {
	Seq        int64     `json:"seq" gorm:"primaryKey;autoIncrement:false"`
	At         time.Time `json:"at"`
	ActorID    *int64    `json:"actor_id"`
	OrgID      *int64    `json:"org_id"`
	Action     string    `json:"action"`
	ObjectType string    `json:"object_type"`
	ObjectID   string    `json:"object_id"`
	Before     *string   `json:"before"`
	After      *string   `json:"after"`
	Reason     string    `json:"reason"`
	RequestID  string    `json:"request_id"`
	PrevHash   string    `json:"prev_hash"`
	Hash       string    `json:"hash"`
}

// TableName pins the table.
func (AuditEvent) TableName() string { return "audit_events" }

// Change is what a service records: who acted comes from the Actor, the
// request id from the context, the time and the chain from the log.
type Change struct {
	Action     string
	ObjectType string
	ObjectID   string
	Before     any
	After      any
	Reason     string
}

// Audit appends to and reads the audit log.
type Audit struct {
	db    *database.DB
	clock infrashare.Clock
}

// NewAudit returns the audit log on db.
func NewAudit(db *database.DB, clock infrashare.Clock) *Audit {
	return &Audit{db: db, clock: clock}
}

type pendingKey struct{}

type pendingEvent struct {
	actor         Actor
	c             Change
	before, after *string // canonical JSON of c.Before and c.After
}

type pending struct{ events []pendingEvent }

// Record queues a change in ctx's transaction. The events are written, in
// order, as the transaction's last step, under the lock of the head row, so
// that concurrent writers on any number of replicas extend one chain and
// hold the lock only for the moment of the append.
func (a *Audit) Record(ctx context.Context, actor Actor, c Change) error {
	if !database.InTx(ctx) {
		return a.db.Tx(ctx, func(ctx context.Context) error { return a.Record(ctx, actor, c) })
	}
	p, _ := database.TxValue(ctx, pendingKey{}).(*pending)
	if p == nil {
		p = &pending{}
		database.SetTxValue(ctx, pendingKey{}, p)
		if err := database.BeforeCommit(ctx, pendingKey{}, func(ctx context.Context) error { return a.flush(ctx, p) }); err != nil {
			return err
		}
	}
	// Encoded now, not under the head's lock, which every writer waits for.
	pe := pendingEvent{actor: actor, c: c}
	var err error
	if pe.before, err = CanonicalJSON(c.Before); err != nil {
		return err
	}
	if pe.after, err = CanonicalJSON(c.After); err != nil {
		return err
	}
	p.events = append(p.events, pe)
	return nil
}

// GenesisHash is the prev_hash of the first event.
var GenesisHash = strings.Repeat("0", 64)

type auditHead struct {
	ID       int
	Count    int64
	LastHash string
}

func (auditHead) TableName() string { return "audit_head" }

func (a *Audit) flush(ctx context.Context, p *pending) error {
	if len(p.events) == 0 {
		return nil
	}
	tx := a.db.Conn(ctx)
	var head auditHead
	q := tx.Where("id = 1")
	if a.db.IsPostgres() {
		q = q.Clauses(forUpdate())
	}
	if err := q.First(&head).Error; err != nil {
		return fmt.Errorf("lock the audit head: %w", err)
	}
	reqID := RequestIDFrom(ctx)
	for _, pe := range p.events {
		ev := AuditEvent{
			Seq: head.Count + 1, At: a.clock.Now().UTC().Truncate(time.Microsecond),
			Action: pe.c.Action, ObjectType: pe.c.ObjectType, ObjectID: pe.c.ObjectID,
			Reason: pe.c.Reason, RequestID: reqID, PrevHash: head.LastHash, Before: pe.before, After: pe.after,
		}
		if !pe.actor.System && pe.actor.UserID != 0 {
			uid := pe.actor.UserID
			ev.ActorID = &uid
		}
		if pe.actor.OrgID != 0 {
			oid := pe.actor.OrgID
			ev.OrgID = &oid
		}
		ev.Hash = eventHash(ev)
		if err := tx.Create(&ev).Error; err != nil {
			return fmt.Errorf("append audit event: %w", err)
		}
		head.Count, head.LastHash = ev.Seq, ev.Hash
	}
	p.events = nil
	return tx.Model(&auditHead{}).Where("id = 1").
		Updates(map[string]any{"count": head.Count, "last_hash": head.LastHash}).Error
}

// CanonicalJSON renders v as JSON with sorted keys and no insignificant
// space, so that the same content always hashes the same. nil stays nil.
func CanonicalJSON(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: encode: %w", err)
	}
	if string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	out, err := json.Marshal(generic) // maps marshal with sorted keys
	if err != nil {
		return nil, err
	}
	s := string(out)
	return &s, nil
}

// canonicalEvent fixes the field order of the hashed bytes.
type canonicalEvent struct {
	Seq        int64   `json:"seq"`
	At         string  `json:"at"`
	ActorID    *int64  `json:"actor_id"`
	OrgID      *int64  `json:"org_id"`
	Action     string  `json:"action"`
	ObjectType string  `json:"object_type"`
	ObjectID   string  `json:"object_id"`
	Before     *string `json:"before"`
	After      *string `json:"after"`
	Reason     string  `json:"reason"`
	RequestID  string  `json:"request_id"`
}

// CanonicalBytes are the bytes of an event that its hash covers.
func CanonicalBytes(e AuditEvent) []byte {
	b, _ := json.Marshal(canonicalEvent{
		Seq: e.Seq, At: e.At.UTC().Format("2006-01-02T15:04:05.000000Z"),
		ActorID: e.ActorID, OrgID: e.OrgID, Action: e.Action, ObjectType: e.ObjectType,
		ObjectID: e.ObjectID, Before: e.Before, After: e.After, Reason: e.Reason, RequestID: e.RequestID,
	})
	return b
}

// eventHash is SHA-256(prev_hash ‖ canonical bytes), in hex.
func eventHash(e AuditEvent) string {
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write(CanonicalBytes(e))
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyResult is the answer of Verify.
type VerifyResult struct {
	OK     bool  `json:"ok"`
	Events int64 `json:"events"`
	// FirstBadID is the seq of the first event that fails: its hash or link
	// does not hold, it is missing from the sequence, or (for removed tail
	// events) the first seq the head counts that is not there.
	FirstBadID *int64 `json:"first_bad_id"`
	Reason     string `json:"reason,omitempty"`
}

// Verify walks the whole chain in seq order and checks it against the head,
// inside one snapshot: appends committed while it reads must not look like
// tampering.
func (a *Audit) Verify(ctx context.Context, actor Actor) (VerifyResult, error) {
	if !actor.SeesEverything() {
		return VerifyResult{}, infrashare.Forbidden("only the department and admins verify the audit log")
	}
	if database.InTx(ctx) {
		return a.verify(a.db.Conn(ctx))
	}
	var opts *sql.TxOptions
	if a.db.IsPostgres() {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	var out VerifyResult
	err := a.db.Root().WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		out, err = a.verify(tx)
		return err
	}, opts)
	return out, err
}

func (a *Audit) verify(conn *gorm.DB) (VerifyResult, error) {
	bad := func(seq, n int64, why string) (VerifyResult, error) {
		return VerifyResult{OK: false, Events: n, FirstBadID: &seq, Reason: why}, nil
	}
	var head auditHead
	if err := conn.Where("id = 1").First(&head).Error; err != nil {
		return VerifyResult{}, err
	}
	prev, expect := GenesisHash, int64(1)
	const batch = 5000
	for {
		var rows []AuditEvent
		if err := conn.Where("seq >= ?", expect).Order("seq").Limit(batch).Find(&rows).Error; err != nil {
			return VerifyResult{}, err
		}
		for _, e := range rows {
			if e.Seq != expect {
				return bad(expect, expect-1, "event missing from the sequence")
			}
			if e.PrevHash != prev || eventHash(e) != e.Hash {
				return bad(e.Seq, expect-1, "hash does not match the event's content or its predecessor")
			}
			prev = e.Hash
			expect++
		}
		if len(rows) < batch {
			break
		}
	}
	n := expect - 1
	if n != head.Count {
		if n < head.Count {
			return bad(n+1, n, fmt.Sprintf("the head counts %d events; %d are left", head.Count, n))
		}
		return bad(head.Count+1, n, "events beyond the head's count")
	}
	if n > 0 && prev != head.LastHash {
		return bad(n, n, "the last hash differs from the head's")
	}
	return VerifyResult{OK: true, Events: n}, nil
}

// AuditFilter selects events; zero fields do not filter.
type AuditFilter struct {
	ObjectType string
	ObjectID   string
	ActorID    int64
	Action     string
	From, To   time.Time
	Limit      int
	Cursor     string
}

// List returns events newest first, for the department and admins.
func (a *Audit) List(ctx context.Context, actor Actor, f AuditFilter) ([]AuditEvent, string, error) {
	if !actor.SeesEverything() {
		return nil, "", infrashare.Forbidden("only the department and admins read the audit log")
	}
	return a.list(ctx, f)
}

// ListForObject returns one object's events; the caller has checked that
// the actor may see them.
func (a *Audit) ListForObject(ctx context.Context, objectType, objectID string, limit int, cursor string) ([]AuditEvent, string, error) {
	return a.list(ctx, AuditFilter{ObjectType: objectType, ObjectID: objectID, Limit: limit, Cursor: cursor})
}

func (a *Audit) list(ctx context.Context, f AuditFilter) ([]AuditEvent, string, error) {
	q := a.db.Conn(ctx).Model(&AuditEvent{})
	if f.ObjectType != "" {
		q = q.Where("object_type = ?", f.ObjectType)
	}
	if f.ObjectID != "" {
		q = q.Where("object_id = ?", f.ObjectID)
	}
	if f.ActorID != 0 {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", f.To.UTC())
	}
	rows, next, err := Page(q, "seq", f.Cursor, f.Limit, true, func(r AuditEvent) int64 { return r.Seq })
	if err != nil {
		return nil, "", err
	}
	return rows, next, nil
}

// Page sizes of DESIGN §4.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// ClampLimit applies the default and the ceiling of list pages.
func ClampLimit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	if n > MaxLimit {
		return MaxLimit
	}
	return n
}

// EncodeCursor makes an opaque cursor of a keyset position.
func EncodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

// DecodeCursor reads a cursor made by EncodeCursor.
func DecodeCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if id, err := strconv.ParseInt(string(b), 10, 64); err == nil && id > 0 {
			return id, nil
		}
	}
	return 0, infrashare.Invalid("cursor", "is not a cursor this server made")
}

type requestIDKey struct{}

// WithRequestID carries the HTTP request id to the audit log.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the request id carried by ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
