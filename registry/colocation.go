package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"infrashare"
	"infrashare/auth"
	"infrashare/notify"
)

// Co-location request states (DESIGN §2).
const (
	StateSubmitted     = "submitted"
	StateInfoRequested = "info_requested"
	StateApproved      = "approved"
	StateAgreed        = "agreed"
	StateActive        = "active"
	StateTerminated    = "terminated"
	StateRejected      = "rejected"
	StateDisputed      = "disputed"
	StateOverdue       = "overdue"
	StateWithdrawn     = "withdrawn"
	StateExpired       = "expired"
	StateClosed        = "closed"
)

// Sides of a request: who may take an action.
const (
	sideRequester  = "requester"
	sideOwner      = "owner"
	sideDepartment = "department"
	sideEither     = "either"
)

// transition is one action of the state machine: from which states, by
// which side.
type transition struct {
	from []string
	side string
}

// transitions is the state machine of DESIGN §2. The target state is
// decided by the action's effect (resolve leads to different states).
var transitions = map[string]transition{
	"approve":      {from: []string{StateSubmitted, StateOverdue}, side: sideOwner},
	"request_info": {from: []string{StateSubmitted}, side: sideOwner},
	"answer_info":  {from: []string{StateInfoRequested}, side: sideRequester},
	"reject":       {from: []string{StateSubmitted, StateOverdue}, side: sideOwner},
	"escalate":     {from: []string{StateRejected, StateOverdue, StateApproved}, side: sideRequester},
	"resolve":      {from: []string{StateDisputed}, side: sideDepartment},
	"accept":       {from: []string{StateApproved}, side: sideRequester},
	"activate":     {from: []string{StateAgreed}, side: sideRequester},
	"terminate":    {from: []string{StateActive}, side: sideEither},
	"withdraw":     {from: []string{StateSubmitted, StateInfoRequested, StateApproved}, side: sideRequester},
}

// RejectReasons are the reason codes of a rejection.
var RejectReasons = []string{"no_capacity", "structural", "safety", "planned_own_use", "other"}

// Request is a row of colocation_requests.
type Request struct {
	ID              int64
	Number          string
	RequesterOrgID  int64
	OwnerOrgID      int64
	State           string
	Purpose         string
	Technical       string
	DesiredStart    *infrashare.Date
	SubmittedAt     time.Time
	ReplyDeadline   time.Time
	InfoRequestedAt *time.Time
	AcceptDeadline  *time.Time
	OfferRentVND    *int64 `gorm:"column:offer_rent_vnd"`
	Conditions      string
	ReasonCode      string
	Reason          string
	DisputeKind     string
	Reserved        bool
	RemindedAt      *time.Time
	Version         int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// TableName pins the table.
func (Request) TableName() string { return "colocation_requests" }

// RequestItem is units asked for on one asset.
type RequestItem struct {
	RequestID int64 `json:"-"`
	AssetID   int64 `json:"asset_id"`
	Units     int   `json:"units"`
}

// TableName pins the table.
func (RequestItem) TableName() string { return "colocation_items" }

type requestEvent struct {
	ID          int64
	RequestID   int64
	At          time.Time
	ActorUserID *int64
	ActorOrgID  *int64
	Action      string
	FromState   string
	ToState     string
	ReasonCode  string
	Reason      string
}

func (requestEvent) TableName() string { return "colocation_events" }

type requestComment struct {
	ID           int64
	RequestID    int64
	At           time.Time
	AuthorUserID int64
	AuthorOrgID  int64
	Body         string
}

func (requestComment) TableName() string { return "colocation_comments" }

// RequestView is a request as its parties and the department see it.
type RequestView struct {
	ID             int64            `json:"id"`
	Number         string           `json:"number"`
	State          string           `json:"state"`
	Requester      auth.OrgRef      `json:"requester"`
	Owner          auth.OrgRef      `json:"owner"`
	Items          []ItemView       `json:"items"`
	Purpose        string           `json:"purpose"`
	Technical      json.RawMessage  `json:"technical"`
	DesiredStart   *infrashare.Date `json:"desired_start"`
	SubmittedAt    time.Time        `json:"submitted_at"`
	ReplyDeadline  time.Time        `json:"reply_deadline"`
	AcceptDeadline *time.Time       `json:"accept_deadline"`
	// ClockPaused says the reply deadline waits while information is asked.
	ClockPaused  bool          `json:"clock_paused"`
	OfferRentVND *int64        `json:"offer_rent_vnd"`
	Conditions   string        `json:"conditions"`
	ReasonCode   string        `json:"reason_code"`
	Reason       string        `json:"reason"`
	DisputeKind  string        `json:"dispute_kind,omitempty"`
	Events       []EventView   `json:"events"`
	Comments     []CommentView `json:"comments"`
	Version      int           `json:"version"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
}

// ItemView is an item with its asset named.
type ItemView struct {
	AssetID   int64  `json:"asset_id"`
	AssetCode string `json:"asset_code"`
	Kind      string `json:"kind"`
	Units     int    `json:"units"`
}

// EventView is one step of a request's timeline.
type EventView struct {
	At         time.Time    `json:"at"`
	Actor      *auth.OrgRef `json:"actor"`
	ActorUser  *int64       `json:"actor_user_id"`
	Action     string       `json:"action"`
	FromState  string       `json:"from_state"`
	ToState    string       `json:"to_state"`
	ReasonCode string       `json:"reason_code,omitempty"`
	Reason     string       `json:"reason"`
}

// CommentView is a comment on a request.
type CommentView struct {
	ID     int64       `json:"id"`
	At     time.Time   `json:"at"`
	Author auth.OrgRef `json:"author"`
	UserID int64       `json:"author_user_id"`
	Body   string      `json:"body"`
}

// notifier is where transitions announce themselves; nil stays silent.
type notifier interface {
	Enqueue(ctx context.Context, e notify.Event) error
}

// SetNotifier makes the register announce request transitions.
func (s *Service) SetNotifier(n notifier) { s.notify = n }

// NewRequest is the body of POST /api/v1/colocation-requests.
type NewRequest struct {
	Items        []RequestItemInput `json:"items" validate:"required,min=1,max=200,dive"`
	Purpose      string             `json:"purpose" validate:"required,oneof=bts fiber other"`
	Technical    json.RawMessage    `json:"technical"`
	DesiredStart *infrashare.Date   `json:"desired_start"`
}

// RequestItemInput asks for units on one asset.
type RequestItemInput struct {
	AssetID int64 `json:"asset_id" validate:"required,gt=0"`
	Units   int   `json:"units" validate:"required,gte=1,lte=10000"`
}

// deadlineDays reads the reply or acceptance deadline setting in days.
func (s *Service) deadlineDays(ctx context.Context, key string, def int) (time.Duration, error) {
	days := def
	if err := s.settings.Get(ctx, key, &days); err != nil {
		return 0, err
	}
	return time.Duration(days) * 24 * time.Hour, nil
}

// Submit files a request of the actor's organisation for units on assets
// of one other owner. It checks that the room is free now; it reserves
// nothing until the owner approves.
func (s *Service) Submit(ctx context.Context, actor auth.Actor, in NewRequest) (RequestView, error) {
	if err := requireOperator(actor); err != nil {
		return RequestView{}, err
	}
	if err := infrashare.Validate(in); err != nil {
		return RequestView{}, err
	}
	technical, err := checkTechnical(in.Purpose, in.Technical)
	if err != nil {
		return RequestView{}, err
	}
	seen := map[int64]bool{}
	for i, it := range in.Items {
		if seen[it.AssetID] {
			return RequestView{}, infrashare.Invalid(fmt.Sprintf("items[%d].asset_id", i), "asks for the same asset twice")
		}
		seen[it.AssetID] = true
	}
	reply, err := s.deadlineDays(ctx, "colocation.reply_days", 15)
	if err != nil {
		return RequestView{}, err
	}
	var id int64
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		var ownerID int64
		for i, it := range in.Items {
			a, err := s.load(ctx, it.AssetID)
			if err != nil {
				return infrashare.Invalid(fmt.Sprintf("items[%d].asset_id", i), "no such asset")
			}
			switch {
			case a.OwnerID == actor.OrgID:
				return infrashare.Invalid(fmt.Sprintf("items[%d].asset_id", i), "is your own organisation's asset; record own use as an allocation")
			case ownerID != 0 && a.OwnerID != ownerID:
				return infrashare.Invalid(fmt.Sprintf("items[%d].asset_id", i), "all assets of one request must have one owner")
			case a.Status == "decommissioned":
				return infrashare.Invalid(fmt.Sprintf("items[%d].asset_id", i), "the asset is decommissioned")
			case a.Free() < it.Units:
				return capacityConflict(a, it.Units)
			}
			ownerID = a.OwnerID
		}
		now := s.clock.Now()
		n, err := s.db.NextCounter(ctx, fmt.Sprintf("colocation:%d", now.Year()))
		if err != nil {
			return err
		}
		r := Request{Number: fmt.Sprintf("YC-%d-%05d", now.Year(), n), RequesterOrgID: actor.OrgID, OwnerOrgID: ownerID,
			State: StateSubmitted, Purpose: in.Purpose, Technical: technical, DesiredStart: in.DesiredStart,
			SubmittedAt: now, ReplyDeadline: now.Add(reply), Version: 1}
		if err := s.db.Conn(ctx).Create(&r).Error; err != nil {
			return err
		}
		items := make([]RequestItem, 0, len(in.Items))
		for _, it := range in.Items {
			items = append(items, RequestItem{RequestID: r.ID, AssetID: it.AssetID, Units: it.Units})
		}
		if err := s.db.Conn(ctx).Create(&items).Error; err != nil {
			return err
		}
		id = r.ID
		return s.recordTransition(ctx, actor, r, "submit", "", StateSubmitted, "", "")
	})
	if err != nil {
		return RequestView{}, err
	}
	return s.GetRequest(ctx, actor, id)
}

// recordTransition writes the timeline event, the audit event and the
// notification of a transition, in ctx's transaction.
func (s *Service) recordTransition(ctx context.Context, actor auth.Actor, r Request, action, from, to, reasonCode, reason string) error {
	ev := requestEvent{RequestID: r.ID, At: s.clock.Now(), Action: action, FromState: from, ToState: to,
		ReasonCode: reasonCode, Reason: reason}
	if !actor.System {
		uid, oid := actor.UserID, actor.OrgID
		ev.ActorUserID, ev.ActorOrgID = &uid, &oid
	}
	if err := s.db.Conn(ctx).Create(&ev).Error; err != nil {
		return err
	}
	if err := s.audit.Record(ctx, actor, auth.Change{Action: "colocation." + action, ObjectType: "colocation_request",
		ObjectID: strconv.FormatInt(r.ID, 10), Before: map[string]any{"state": from},
		After: map[string]any{"state": to, "number": r.Number, "offer_rent_vnd": r.OfferRentVND, "conditions": r.Conditions,
			"reserved": r.Reserved}, Reason: strings.TrimSpace(reasonCode + " " + reason)}); err != nil {
		return err
	}
	kind := action
	if action == "submit" {
		kind = "submitted"
	}
	return s.announce(ctx, r, "colocation."+kind, reason)
}

// announce tells both parties (and nobody else) about a request.
func (s *Service) announce(ctx context.Context, r Request, kind, reason string) error {
	if s.notify == nil {
		return nil
	}
	req, _, err := s.orgs.get(ctx, r.RequesterOrgID)
	if err != nil {
		return err
	}
	own, _, err := s.orgs.get(ctx, r.OwnerOrgID)
	if err != nil {
		return err
	}
	payload := map[string]any{"id": r.ID, "number": r.Number, "state": r.State, "purpose": r.Purpose,
		"requester":      map[string]string{"code": req.Code, "name": req.Name},
		"owner":          map[string]string{"code": own.Code, "name": own.Name},
		"reply_deadline": r.ReplyDeadline, "accept_deadline": r.AcceptDeadline, "reason": reason,
		"offer_rent_vnd": r.OfferRentVND}
	return s.notify.Enqueue(ctx, notify.Event{Kind: kind, ObjectType: "colocation_request",
		ObjectID: strconv.FormatInt(r.ID, 10), OrgIDs: []int64{r.RequesterOrgID, r.OwnerOrgID}, Payload: payload})
}

// loadRequest reads a request the actor may see: its requester, its owner,
// the department, admins. Anyone else gets not found.
func (s *Service) loadRequest(ctx context.Context, actor auth.Actor, id int64) (Request, error) {
	var r Request
	err := s.db.Conn(ctx).Where("id = ?", id).First(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, infrashare.NotFound("co-location request")
	}
	if err != nil {
		return r, err
	}
	if !actor.SeesEverything() && actor.OrgID != r.RequesterOrgID && actor.OrgID != r.OwnerOrgID {
		return Request{}, infrashare.NotFound("co-location request")
	}
	return r, nil
}

// sideOf is the part the actor plays in a request.
func sideOf(actor auth.Actor, r Request) string {
	switch {
	case actor.OrgID == r.RequesterOrgID && actor.Has(auth.RoleOperator):
		return sideRequester
	case actor.OrgID == r.OwnerOrgID && actor.Has(auth.RoleOperator):
		return sideOwner
	case actor.Has(auth.RoleAuditor) && actor.OrgKind == auth.KindDepartment:
		return sideDepartment
	}
	return ""
}

// Action is the body of POST /api/v1/colocation-requests/{id}/actions.
type Action struct {
	Action       string  `json:"action" validate:"required,max=32"`
	ReasonCode   string  `json:"reason_code" validate:"max=32"`
	Reason       string  `json:"reason" validate:"max=5000"`
	OfferRentVND *int64  `json:"offer_rent_vnd" validate:"omitempty,gte=0,lte=1000000000000"`
	Conditions   *string `json:"conditions" validate:"omitempty,max=5000"`
	Decision     string  `json:"decision" validate:"omitempty,oneof=order_sharing uphold"`
	Note         string  `json:"note" validate:"max=5000"`
}

func (a Action) check(side string) error {
	fields := infrashare.FieldErrors{}
	switch a.Action {
	case "reject":
		if !containsString(RejectReasons, a.ReasonCode) {
			fields.Add("reason_code", "must be one of: "+strings.Join(RejectReasons, ", "))
		} else if a.ReasonCode == "other" && strings.TrimSpace(a.Reason) == "" {
			fields.Add("reason", "is required with reason code other")
		}
	case "escalate":
		if strings.TrimSpace(a.Reason) == "" {
			fields.Add("reason", "say what the dispute is about")
		}
	case "resolve":
		if a.Decision == "" {
			fields.Add("decision", "must be order_sharing or uphold")
		}
		if strings.TrimSpace(a.Reason) == "" {
			fields.Add("reason", "a resolution needs its reason")
		}
	case "request_info":
		if strings.TrimSpace(a.Reason) == "" && strings.TrimSpace(a.Note) == "" {
			fields.Add("reason", "say what information is needed")
		}
	}
	if a.OfferRentVND != nil && a.Action != "approve" && a.Action != "resolve" {
		fields.Add("offer_rent_vnd", "only an approval or a resolution sets the rent")
	}
	if a.Conditions != nil && a.Action != "approve" && a.Action != "resolve" {
		fields.Add("conditions", "only an approval or a resolution sets conditions")
	}
	return fields.Err()
}

// Act applies an action to a request: only the side DESIGN §2 names, only
// from its states. The state change is a conditional UPDATE on the state
// and version, so a transition can never happen twice, on any replica.
func (s *Service) Act(ctx context.Context, actor auth.Actor, id int64, a Action) (RequestView, error) {
	a.Action = strings.TrimSpace(a.Action)
	if err := infrashare.Validate(a); err != nil {
		return RequestView{}, err
	}
	tr, ok := transitions[a.Action]
	if !ok {
		return RequestView{}, infrashare.Invalid("action", "must be one of: approve, request_info, answer_info, reject, escalate, resolve, accept, activate, terminate, withdraw")
	}
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		r, err := s.loadRequest(ctx, actor, id)
		if err != nil {
			return err
		}
		side := sideOf(actor, r)
		allowed := side == tr.side || (tr.side == sideEither && (side == sideRequester || side == sideOwner))
		if !allowed {
			return infrashare.Forbidden("the %s does not %s a request", sideName(side), strings.ReplaceAll(a.Action, "_", " "))
		}
		if !containsString(tr.from, r.State) {
			return &infrashare.Error{Code: infrashare.ECONFLICT,
				Message: fmt.Sprintf("a request that is %s cannot be %s", r.State, pastTense(a.Action)),
				Details: map[string]any{"state": r.State}}
		}
		if err := a.check(side); err != nil {
			return err
		}
		return s.apply(ctx, actor, r, a)
	})
	if err != nil {
		return RequestView{}, err
	}
	return s.GetRequest(ctx, actor, id)
}

func sideName(side string) string {
	if side == "" {
		return "caller"
	}
	return side
}

func pastTense(action string) string {
	switch action {
	case "approve", "reject", "activate", "terminate", "resolve", "escalate":
		return action + "d"
	case "withdraw":
		return "withdrawn"
	case "accept":
		return "accepted"
	}
	return "given " + strings.ReplaceAll(action, "_", " ")
}

// apply performs an allowed action.
func (s *Service) apply(ctx context.Context, actor auth.Actor, r Request, a Action) error {
	now := s.clock.Now()
	from := r.State
	next := r
	next.ReasonCode, next.Reason = "", strings.TrimSpace(a.Reason)
	if next.Reason == "" {
		next.Reason = strings.TrimSpace(a.Note)
	}
	accept, err := s.deadlineDays(ctx, "colocation.accept_days", 30)
	if err != nil {
		return err
	}
	switch a.Action {
	case "approve":
		if err := s.reserveFor(ctx, &next); err != nil {
			return err
		}
		next.State = StateApproved
		next.OfferRentVND = a.OfferRentVND
		if a.Conditions != nil {
			next.Conditions = strings.TrimSpace(*a.Conditions)
		}
		deadline := now.Add(accept)
		next.AcceptDeadline, next.RemindedAt = &deadline, nil
	case "request_info":
		next.State, next.InfoRequestedAt = StateInfoRequested, &now
	case "answer_info":
		// The reply clock paused while the owner waited: push the deadline
		// by the time spent.
		if r.InfoRequestedAt != nil {
			next.ReplyDeadline = r.ReplyDeadline.Add(now.Sub(*r.InfoRequestedAt))
		}
		next.State, next.InfoRequestedAt, next.RemindedAt = StateSubmitted, nil, nil
	case "reject":
		next.State, next.ReasonCode = StateRejected, a.ReasonCode
	case "escalate":
		next.State = StateDisputed
		next.DisputeKind = map[string]string{StateRejected: "rejection", StateOverdue: "overdue", StateApproved: "terms"}[from]
	case "resolve":
		if err := s.resolve(ctx, &next, a, now.Add(accept)); err != nil {
			return err
		}
	case "accept":
		next.State = StateAgreed
	case "activate":
		if err := s.activateFor(ctx, next); err != nil {
			return err
		}
		next.State = StateActive
	case "terminate", "withdraw":
		if err := s.releaseFor(ctx, &next); err != nil {
			return err
		}
		next.State = map[string]string{"terminate": StateTerminated, "withdraw": StateWithdrawn}[a.Action]
	}
	if err := s.saveTransition(ctx, r, next); err != nil {
		return err
	}
	return s.recordTransition(ctx, actor, next, a.Action, from, next.State, next.ReasonCode, next.Reason)
}

// resolve is the department's decision on a dispute.
func (s *Service) resolve(ctx context.Context, next *Request, a Action, acceptBy time.Time) error {
	switch {
	case a.Decision == "order_sharing":
		// Reserve unless the request already holds its room (a dispute
		// about terms keeps its reservation).
		if !next.Reserved {
			if err := s.reserveFor(ctx, next); err != nil {
				return err
			}
		}
		if a.OfferRentVND != nil {
			next.OfferRentVND = a.OfferRentVND
		}
		if a.Conditions != nil {
			next.Conditions = strings.TrimSpace(*a.Conditions)
		}
		next.State, next.AcceptDeadline, next.RemindedAt = StateApproved, &acceptBy, nil
	case next.DisputeKind == "terms":
		// Upheld: back to the owner's offer.
		if a.OfferRentVND != nil || a.Conditions != nil {
			return infrashare.Invalid("decision", "upholding keeps the owner's offer; order sharing to set terms")
		}
		next.State, next.AcceptDeadline, next.RemindedAt = StateApproved, &acceptBy, nil
	default:
		if err := s.releaseFor(ctx, next); err != nil {
			return err
		}
		next.State = StateClosed
	}
	return nil
}

// saveTransition writes the new state only if nobody changed the request
// meanwhile.
func (s *Service) saveTransition(ctx context.Context, cur, next Request) error {
	res := s.db.Conn(ctx).Model(&Request{}).Where("id = ? AND state = ? AND version = ?", cur.ID, cur.State, cur.Version).
		Updates(map[string]any{"state": next.State, "reply_deadline": next.ReplyDeadline,
			"info_requested_at": next.InfoRequestedAt, "accept_deadline": next.AcceptDeadline,
			"offer_rent_vnd": next.OfferRentVND, "conditions": next.Conditions, "reason_code": next.ReasonCode,
			"reason": next.Reason, "dispute_kind": next.DisputeKind, "reserved": next.Reserved,
			"reminded_at": next.RemindedAt, "version": cur.Version + 1, "updated_at": s.clock.Now()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return infrashare.Conflict("the request changed meanwhile; reload it")
	}
	return nil
}

func (s *Service) items(ctx context.Context, requestID int64) ([]RequestItem, error) {
	var items []RequestItem
	err := s.db.Conn(ctx).Where("request_id = ?", requestID).Order("asset_id").Find(&items).Error
	return items, err
}

// reserveFor reserves the request's units on every asset, all or nothing,
// in ascending asset order so that concurrent approvals cannot deadlock.
func (s *Service) reserveFor(ctx context.Context, r *Request) error {
	items, err := s.items(ctx, r.ID)
	if err != nil {
		return err
	}
	sort.Slice(items, func(i, j int) bool { return items[i].AssetID < items[j].AssetID })
	today := s.settings.Today()
	for _, it := range items {
		if err := s.reserve(ctx, it.AssetID, it.Units); err != nil {
			return err
		}
		rid := r.ID
		al := Allocation{AssetID: it.AssetID, TenantOrgID: r.RequesterOrgID, Purpose: PurposeColocation, Units: it.Units,
			Status: StatusReserved, Since: today, RentVND: r.OfferRentVND, ColocationRequestID: &rid,
			ContractRef: r.Number}
		if err := s.db.Conn(ctx).Create(&al).Error; err != nil {
			return err
		}
	}
	r.Reserved = true
	return nil
}

// activateFor turns the request's reservations into active allocations.
func (s *Service) activateFor(ctx context.Context, r Request) error {
	var als []Allocation
	if err := s.db.Conn(ctx).Where("colocation_request_id = ? AND status = ?", r.ID, StatusReserved).Order("asset_id").Find(&als).Error; err != nil {
		return err
	}
	today := s.settings.Today()
	for _, al := range als {
		if err := s.activate(ctx, al.AssetID, al.Units); err != nil {
			return err
		}
		if err := s.db.Conn(ctx).Model(&Allocation{}).Where("id = ?", al.ID).
			Updates(map[string]any{"status": StatusActive, "since": today, "rent_vnd": r.OfferRentVND, "updated_at": s.clock.Now()}).Error; err != nil {
			return err
		}
	}
	return nil
}

// releaseFor gives back whatever the request holds, reserved or active.
func (s *Service) releaseFor(ctx context.Context, r *Request) error {
	var als []Allocation
	if err := s.db.Conn(ctx).Where("colocation_request_id = ? AND status <> ?", r.ID, StatusReleased).Order("asset_id").Find(&als).Error; err != nil {
		return err
	}
	today := s.settings.Today()
	for _, al := range als {
		var err error
		if al.Status == StatusReserved {
			err = s.unreserve(ctx, al.AssetID, al.Units)
		} else {
			err = s.vacate(ctx, al.AssetID, al.Units)
		}
		if err != nil {
			return err
		}
		if err := s.db.Conn(ctx).Model(&Allocation{}).Where("id = ?", al.ID).
			Updates(map[string]any{"status": StatusReleased, "until": today, "updated_at": s.clock.Now()}).Error; err != nil {
			return err
		}
	}
	r.Reserved = false
	return nil
}

// GetRequest returns a request with its items, timeline and comments.
func (s *Service) GetRequest(ctx context.Context, actor auth.Actor, id int64) (RequestView, error) {
	r, err := s.loadRequest(ctx, actor, id)
	if err != nil {
		return RequestView{}, err
	}
	v, err := s.requestView(ctx, r)
	if err != nil {
		return RequestView{}, err
	}
	var evs []requestEvent
	if err := s.db.Conn(ctx).Where("request_id = ?", id).Order("id").Find(&evs).Error; err != nil {
		return RequestView{}, err
	}
	for _, e := range evs {
		ev := EventView{At: e.At, ActorUser: e.ActorUserID, Action: e.Action, FromState: e.FromState, ToState: e.ToState,
			ReasonCode: e.ReasonCode, Reason: e.Reason}
		if e.ActorOrgID != nil {
			o, _, err := s.orgs.get(ctx, *e.ActorOrgID)
			if err != nil {
				return RequestView{}, err
			}
			ref := refOf(o)
			ev.Actor = &ref
		}
		v.Events = append(v.Events, ev)
	}
	var cs []requestComment
	if err := s.db.Conn(ctx).Where("request_id = ?", id).Order("id").Find(&cs).Error; err != nil {
		return RequestView{}, err
	}
	for _, c := range cs {
		o, _, err := s.orgs.get(ctx, c.AuthorOrgID)
		if err != nil {
			return RequestView{}, err
		}
		v.Comments = append(v.Comments, CommentView{ID: c.ID, At: c.At, Author: refOf(o), UserID: c.AuthorUserID, Body: c.Body})
	}
	return v, nil
}

// requestView is the request without its timeline and comments (lists).
func (s *Service) requestView(ctx context.Context, r Request) (RequestView, error) {
	req, _, err := s.orgs.get(ctx, r.RequesterOrgID)
	if err != nil {
		return RequestView{}, err
	}
	own, _, err := s.orgs.get(ctx, r.OwnerOrgID)
	if err != nil {
		return RequestView{}, err
	}
	v := RequestView{ID: r.ID, Number: r.Number, State: r.State, Requester: refOf(req), Owner: refOf(own),
		Purpose: r.Purpose, Technical: json.RawMessage(r.Technical), DesiredStart: r.DesiredStart,
		SubmittedAt: r.SubmittedAt, ReplyDeadline: r.ReplyDeadline, AcceptDeadline: r.AcceptDeadline,
		ClockPaused: r.State == StateInfoRequested, OfferRentVND: r.OfferRentVND, Conditions: r.Conditions,
		ReasonCode: r.ReasonCode, Reason: r.Reason, DisputeKind: r.DisputeKind, Version: r.Version,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Events: []EventView{}, Comments: []CommentView{}}
	items, err := s.items(ctx, r.ID)
	if err != nil {
		return RequestView{}, err
	}
	for _, it := range items {
		iv := ItemView{AssetID: it.AssetID, Units: it.Units}
		if a, err := s.load(ctx, it.AssetID); err == nil {
			iv.AssetCode, iv.Kind = a.Code, a.Kind
		}
		v.Items = append(v.Items, iv)
	}
	return v, nil
}

// Comment adds a comment from either side or the department.
func (s *Service) Comment(ctx context.Context, actor auth.Actor, id int64, body string) (RequestView, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return RequestView{}, infrashare.Invalid("body", "is required")
	}
	if len([]rune(body)) > 5000 {
		return RequestView{}, infrashare.Invalid("body", "must be at most 5000 characters")
	}
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		r, err := s.loadRequest(ctx, actor, id)
		if err != nil {
			return err
		}
		if sideOf(actor, r) == "" {
			return infrashare.Forbidden("only the parties and the department comment on a request")
		}
		c := requestComment{RequestID: id, At: s.clock.Now(), AuthorUserID: actor.UserID, AuthorOrgID: actor.OrgID, Body: body}
		if err := s.db.Conn(ctx).Create(&c).Error; err != nil {
			return err
		}
		if err := s.audit.Record(ctx, actor, auth.Change{Action: "colocation.comment", ObjectType: "colocation_request",
			ObjectID: strconv.FormatInt(id, 10), After: map[string]any{"comment_id": c.ID, "body": body}}); err != nil {
			return err
		}
		return s.announce(ctx, r, "colocation.comment", body)
	})
	if err != nil {
		return RequestView{}, err
	}
	return s.GetRequest(ctx, actor, id)
}

// RequestFilter selects requests.
type RequestFilter struct {
	// Box is "in" (to the caller's organisation as owner), "out" (from it)
	// or "" (both).
	Box         string
	States      []string
	Overdue     bool
	AssetID     int64
	Counterpart string
	Limit       int
	Cursor      string
}

// ListRequests lists the caller's organisation's requests, in and out,
// newest first; the department and admins see all.
func (s *Service) ListRequests(ctx context.Context, actor auth.Actor, f RequestFilter) ([]RequestView, string, error) {
	q := s.db.Conn(ctx).Model(&Request{})
	all := actor.SeesEverything()
	switch f.Box {
	case "in":
		q = q.Where("owner_org_id = ?", actor.OrgID)
	case "out":
		q = q.Where("requester_org_id = ?", actor.OrgID)
	case "":
		if !all {
			q = q.Where("(owner_org_id = ? OR requester_org_id = ?)", actor.OrgID, actor.OrgID)
		}
	default:
		return nil, "", infrashare.Invalid("box", "must be in or out")
	}
	for _, st := range f.States {
		if !validState(st) {
			return nil, "", infrashare.Invalid("state", "unknown state "+st)
		}
	}
	if len(f.States) > 0 {
		q = q.Where("state IN ?", f.States)
	}
	if f.Overdue {
		q = q.Where("(state = ? OR (state = ? AND reply_deadline < ?))", StateOverdue, StateSubmitted, s.clock.Now())
	}
	if f.AssetID > 0 {
		q = q.Where("id IN (SELECT request_id FROM colocation_items WHERE asset_id = ?)", f.AssetID)
	}
	if f.Counterpart != "" {
		o, ok, err := s.orgs.byCodeGet(ctx, strings.ToUpper(f.Counterpart))
		if err != nil {
			return nil, "", err
		}
		if !ok {
			return []RequestView{}, "", nil
		}
		q = q.Where("(owner_org_id = ? OR requester_org_id = ?)", o.ID, o.ID)
	}
	rows, next, err := auth.Page(q, "id", f.Cursor, f.Limit, true, func(r Request) int64 { return r.ID })
	if err != nil {
		return nil, "", err
	}
	out := make([]RequestView, 0, len(rows))
	for _, r := range rows {
		v, err := s.requestView(ctx, r)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	return out, next, nil
}

func validState(st string) bool {
	switch st {
	case StateSubmitted, StateInfoRequested, StateApproved, StateAgreed, StateActive, StateTerminated, StateRejected,
		StateDisputed, StateOverdue, StateWithdrawn, StateExpired, StateClosed:
		return true
	}
	return false
}

// SweepDeadlines marks requests overdue or expired when their deadline has
// passed, and sends reminders before deadlines. It runs on every replica:
// each change is a conditional UPDATE on the state, so no request is acted
// on twice.
func (s *Service) SweepDeadlines(ctx context.Context) (int, error) {
	now := s.clock.Now()
	changed := 0
	type due struct {
		ID    int64
		State string
	}
	var rows []due
	if err := s.db.Conn(ctx).Model(&Request{}).Select("id, state").
		Where("(state = ? AND reply_deadline < ?) OR (state = ? AND accept_deadline < ?)", StateSubmitted, now, StateApproved, now).
		Order("id").Limit(500).Find(&rows).Error; err != nil {
		return 0, err
	}
	for _, d := range rows {
		err := s.db.Tx(ctx, func(ctx context.Context) error {
			var r Request
			if err := s.db.Conn(ctx).Where("id = ?", d.ID).First(&r).Error; err != nil {
				return err
			}
			next := r
			action := "overdue"
			switch {
			case r.State == StateSubmitted && r.ReplyDeadline.Before(now):
				next.State = StateOverdue
			case r.State == StateApproved && r.AcceptDeadline != nil && r.AcceptDeadline.Before(now):
				if err := s.releaseFor(ctx, &next); err != nil {
					return err
				}
				next.State, action = StateExpired, "expired"
			default:
				return errNothingToDo
			}
			if err := s.saveTransition(ctx, r, next); err != nil {
				return err
			}
			return s.recordTransition(ctx, auth.SystemActor, next, action, r.State, next.State, "", "deadline passed")
		})
		switch {
		case err == nil:
			changed++
		case errors.Is(err, errNothingToDo), infrashare.ErrorCode(err) == infrashare.ECONFLICT:
			// Another replica got there first.
		default:
			return changed, err
		}
	}
	if err := s.sendReminders(ctx, now); err != nil {
		return changed, err
	}
	return changed, nil
}

var errNothingToDo = errors.New("nothing to do")

// sendReminders announces, once per deadline, that a deadline is near.
func (s *Service) sendReminders(ctx context.Context, now time.Time) error {
	if s.notify == nil {
		return nil
	}
	days := 3
	if err := s.settings.Get(ctx, "notify.reminder_days", &days); err != nil {
		return err
	}
	soon := now.Add(time.Duration(days) * 24 * time.Hour)
	var rows []Request
	if err := s.db.Conn(ctx).Where("reminded_at IS NULL AND ((state = ? AND reply_deadline <= ?) OR (state = ? AND accept_deadline <= ?))",
		StateSubmitted, soon, StateApproved, soon).Order("id").Limit(500).Find(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		err := s.db.Tx(ctx, func(ctx context.Context) error {
			res := s.db.Conn(ctx).Model(&Request{}).Where("id = ? AND reminded_at IS NULL AND version = ?", r.ID, r.Version).
				Update("reminded_at", now)
			if res.Error != nil || res.RowsAffected != 1 {
				return res.Error
			}
			return s.announce(ctx, r, "colocation.reminder", "")
		})
		if err != nil {
			return err
		}
	}
	return nil
}
