package registry

import "infrashare/auth"

// actionOrder is the order in which a request's actions are offered.
var actionOrder = []string{"approve", "request_info", "reject", "answer_info", "accept", "activate", "escalate",
	"resolve", "withdraw", "terminate"}

// AllowedActions are the actions the actor may take on the request in its
// current state, read from the same state machine that Act enforces, so
// that pages offer exactly what the service will accept.
func AllowedActions(actor auth.Actor, r RequestView) []string {
	side := sideOf(actor, Request{RequesterOrgID: r.Requester.ID, OwnerOrgID: r.Owner.ID})
	if side == "" {
		return nil
	}
	var out []string
	for _, name := range actionOrder {
		tr := transitions[name]
		bySide := tr.side == side || (tr.side == sideEither && (side == sideRequester || side == sideOwner))
		if bySide && containsString(tr.from, r.State) {
			out = append(out, name)
		}
	}
	return out
}
