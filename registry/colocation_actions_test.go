package registry_test

import (
	"reflect"
	"testing"

	"infrashare/auth"
	"infrashare/registry"
)

// AllowedActions offers each side exactly the actions of DESIGN §2's state
// machine for the request's state.
func TestAllowedActions(t *testing.T) {
	requester := auth.Actor{OrgID: 2, OrgKind: auth.KindOperator, Roles: []string{auth.RoleOperator}}
	owner := auth.Actor{OrgID: 1, OrgKind: auth.KindOperator, Roles: []string{auth.RoleOperator}}
	third := auth.Actor{OrgID: 3, OrgKind: auth.KindOperator, Roles: []string{auth.RoleOperator}}
	dept := auth.Actor{OrgID: 9, OrgKind: auth.KindDepartment, Roles: []string{auth.RoleAuditor}}
	admin := auth.Actor{OrgID: 10, OrgKind: auth.KindAdmin, Roles: []string{auth.RoleAdmin}}
	cases := []struct {
		state string
		who   string
		actor auth.Actor
		want  []string
	}{
		{registry.StateSubmitted, "owner", owner, []string{"approve", "request_info", "reject"}},
		{registry.StateSubmitted, "requester", requester, []string{"withdraw"}},
		{registry.StateSubmitted, "department", dept, nil},
		{registry.StateSubmitted, "third", third, nil},
		{registry.StateSubmitted, "admin", admin, nil},
		{registry.StateInfoRequested, "owner", owner, nil},
		{registry.StateInfoRequested, "requester", requester, []string{"answer_info", "withdraw"}},
		{registry.StateOverdue, "owner", owner, []string{"approve", "reject"}},
		{registry.StateOverdue, "requester", requester, []string{"escalate"}},
		{registry.StateApproved, "owner", owner, nil},
		{registry.StateApproved, "requester", requester, []string{"accept", "escalate", "withdraw"}},
		{registry.StateAgreed, "requester", requester, []string{"activate"}},
		{registry.StateAgreed, "owner", owner, nil},
		{registry.StateActive, "requester", requester, []string{"terminate"}},
		{registry.StateActive, "owner", owner, []string{"terminate"}},
		{registry.StateActive, "department", dept, nil},
		{registry.StateRejected, "requester", requester, []string{"escalate"}},
		{registry.StateRejected, "owner", owner, nil},
		{registry.StateDisputed, "department", dept, []string{"resolve"}},
		{registry.StateDisputed, "owner", owner, nil},
		{registry.StateDisputed, "admin", admin, nil},
		{registry.StateTerminated, "requester", requester, nil},
		{registry.StateWithdrawn, "requester", requester, nil},
		{registry.StateExpired, "requester", requester, nil},
		{registry.StateClosed, "department", dept, nil},
	}
	for _, c := range cases {
		r := registry.RequestView{State: c.state, Requester: auth.OrgRef{ID: 2}, Owner: auth.OrgRef{ID: 1}}
		if got := registry.AllowedActions(c.actor, r); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s, %s: %v, want %v", c.state, c.who, got, c.want)
		}
	}
}
