package auth

import (
	"context"

	"infrashare"
)

// AuditActor is who acted in an audit event, as the audit log's readers
// see it: the user's e-mail and organisation code.
type AuditActor struct {
	ID      int64  `json:"id"`
	Email   string `json:"email"`
	OrgCode string `json:"org_code"`
}

// Actors names the users behind audit events, for the readers of the log
// (the department and admins), who may not otherwise list users.
func (a *Audit) Actors(ctx context.Context, actor Actor, ids []int64) (map[int64]AuditActor, error) {
	if !actor.SeesEverything() {
		return nil, infrashare.Forbidden("only the department and admins read the audit log")
	}
	out := map[int64]AuditActor{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []AuditActor
	err := a.db.Conn(ctx).Table("users").
		Select("users.id AS id, users.email AS email, organizations.code AS org_code").
		Joins("JOIN organizations ON organizations.id = users.org_id").
		Where("users.id IN ?", ids).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}
