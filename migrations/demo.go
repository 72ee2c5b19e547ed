package migrations

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"infrashare/auth"
	"infrashare/database"
)

// DemoAccount is one demo sign-in, printed at start in demo mode.
type DemoAccount struct {
	Email, OrgCode, Role string
}

type demoOrg struct {
	code, name, kind, group, contactName, contactEmail, contactPhone string
	units                                                            []string
}

func demoOrgs() []demoOrg {
	return []demoOrg{
		{code: "ADMIN", name: "Quản trị hệ thống infrashare", kind: auth.KindAdmin,
			contactName: "Quản trị viên", contactEmail: "admin@demo.infrashare.vn"},
		{code: "DEPT", name: "Sở Khoa học và Công nghệ thành phố Cần Thơ", kind: auth.KindDepartment,
			contactName: "Phòng Bưu chính, Viễn thông", contactEmail: "auditor@demo.infrashare.vn", contactPhone: "0292 3820 000"},
		{code: "UBND-NK", name: "Ủy ban nhân dân quận Ninh Kiều", kind: auth.KindAuthority,
			contactName: "Phòng Quản lý đô thị quận Ninh Kiều", contactEmail: "officer.ninhkieu@demo.infrashare.vn", units: []string{"916"}},
		{code: "UBND-CR", name: "Ủy ban nhân dân quận Cái Răng", kind: auth.KindAuthority,
			contactName: "Phòng Quản lý đô thị quận Cái Răng", contactEmail: "officer.cairang@demo.infrashare.vn", units: []string{"919"}},
		{code: "VNPT", name: "VNPT Cần Thơ", kind: auth.KindOperator, group: "VNPT",
			contactName: "Phòng Kỹ thuật – Đầu tư", contactEmail: "ops@vnpt.demo.infrashare.vn", contactPhone: "0292 3800 126"},
		{code: "VIETTEL", name: "Viettel Cần Thơ", kind: auth.KindOperator, group: "VIETTEL",
			contactName: "Phòng Hạ tầng", contactEmail: "ops@viettel.demo.infrashare.vn", contactPhone: "0292 3888 198"},
		{code: "MOBIFONE", name: "MobiFone Cần Thơ", kind: auth.KindOperator, group: "MOBIFONE",
			contactName: "Đài Viễn thông Cần Thơ", contactEmail: "ops@mobifone.demo.infrashare.vn", contactPhone: "0292 3761 234"},
	}
}

// DemoAccounts lists the demo sign-ins of DESIGN §7.
func DemoAccounts() []DemoAccount {
	return []DemoAccount{
		{"admin@demo.infrashare.vn", "ADMIN", auth.RoleAdmin},
		{"auditor@demo.infrashare.vn", "DEPT", auth.RoleAuditor},
		{"officer.ninhkieu@demo.infrashare.vn", "UBND-NK", auth.RoleOfficer},
		{"officer.cairang@demo.infrashare.vn", "UBND-CR", auth.RoleOfficer},
		{"ops@vnpt.demo.infrashare.vn", "VNPT", auth.RoleOperator},
		{"ops@viettel.demo.infrashare.vn", "VIETTEL", auth.RoleOperator},
		{"ops@mobifone.demo.infrashare.vn", "MOBIFONE", auth.RoleOperator},
	}
}

// seedLockKey serialises demo seeding across replicas: "infrsed".
const seedLockKey int64 = 0x696e6672736564

const demoSeedName = "demo"

// ErrNotDemoDatabase refuses to put demo accounts into a database that has
// real users.
var ErrNotDemoDatabase = errors.New("the database already has users that are not demo accounts; demo data goes only into a new database")

// SeedDemo writes the demo once: organisations and accounts (with password
// as every demo account's password), then the register. It reports whether
// it seeded anything now; what a database already has is left as it is. Two replicas seeding at once
// seed once: the advisory lock orders them and the marker row stops the
// second.
func SeedDemo(ctx context.Context, db *database.DB, password string) (bool, error) {
	return seedDemo(ctx, db, password, true)
}

// SeedDemoAccounts writes only the demo organisations and accounts: tests
// that build their own register start from it.
func SeedDemoAccounts(ctx context.Context, db *database.DB, password string) (bool, error) {
	return seedDemo(ctx, db, password, false)
}

func seedDemo(ctx context.Context, db *database.DB, password string, register bool) (bool, error) {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return false, fmt.Errorf("demo password: %w", err)
	}
	seeded := false
	err = db.WithAdvisoryLock(ctx, seedLockKey, func() error {
		return db.Tx(ctx, func(ctx context.Context) error {
			tx := db.Conn(ctx)
			done, err := seedRuns(tx)
			if err != nil {
				return err
			}
			if !done[demoSeedName] {
				var n int64
				if err := tx.Model(&auth.User{}).Where("demo = ?", false).Count(&n).Error; err != nil {
					return err
				}
				if n > 0 {
					return ErrNotDemoDatabase
				}
				if err := seedDemoIdentities(tx, hash); err != nil {
					return err
				}
				if err := markSeeded(tx, demoSeedName); err != nil {
					return err
				}
				seeded = true
			}
			// Later parts of the demo arrive in databases seeded before them.
			if register && !done[demoRegisterSeedName] {
				if err := seedDemoRegister(ctx, db); err != nil {
					return err
				}
				if err := markSeeded(tx, demoRegisterSeedName); err != nil {
					return err
				}
				seeded = true
			}
			if register && !done[demoPermitsSeedName] {
				if err := seedDemoPermits(ctx, db); err != nil {
					return err
				}
				if err := markSeeded(tx, demoPermitsSeedName); err != nil {
					return err
				}
				seeded = true
			}
			if register && !done[demoUndergroundSeedName] {
				if err := seedDemoUnderground(ctx, db); err != nil {
					return err
				}
				if err := markSeeded(tx, demoUndergroundSeedName); err != nil {
					return err
				}
				seeded = true
			}
			if register && !done[demoColocationSeedName] {
				if err := seedDemoColocation(ctx, db); err != nil {
					return err
				}
				if err := markSeeded(tx, demoColocationSeedName); err != nil {
					return err
				}
				seeded = true
			}
			return nil
		})
	})
	return seeded, err
}

func seedRuns(tx *gorm.DB) (map[string]bool, error) {
	var names []string
	if err := tx.Table("seed_runs").Pluck("name", &names).Error; err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, n := range names {
		done[n] = true
	}
	return done, nil
}

func markSeeded(tx *gorm.DB, name string) error {
	return tx.Table("seed_runs").Create(map[string]any{"name": name, "at": time.Now().UTC().Truncate(time.Microsecond)}).Error
}

func seedDemoIdentities(tx *gorm.DB, hash string) error {
	ids := map[string]int64{}
	for _, o := range demoOrgs() {
		org := auth.Organization{Code: o.code, Name: o.name, Kind: o.kind,
			ContactName: o.contactName, ContactEmail: o.contactEmail, ContactPhone: o.contactPhone}
		if o.group != "" {
			g := o.group
			org.GroupCode = &g
		}
		if err := tx.Create(&org).Error; err != nil {
			return fmt.Errorf("demo organisation %s: %w", o.code, err)
		}
		ids[o.code] = org.ID
		for _, u := range o.units {
			if err := tx.Create(&auth.Jurisdiction{OrgID: org.ID, UnitCode: u}).Error; err != nil {
				return err
			}
		}
	}
	for _, a := range DemoAccounts() {
		u := auth.User{OrgID: ids[a.OrgCode], Email: a.Email, Name: a.Email, PasswordHash: hash, Roles: a.Role, Demo: true}
		if err := tx.Create(&u).Error; err != nil {
			return fmt.Errorf("demo account %s: %w", a.Email, err)
		}
	}
	return nil
}

// IsDemoSeeded reports whether the demo seed has run.
func IsDemoSeeded(ctx context.Context, db *database.DB) (bool, error) {
	var n int64
	err := db.Conn(ctx).Table("seed_runs").Where("name = ?", demoSeedName).Count(&n).Error
	return n > 0, err
}

// SetDemoPassword gives every demo account password, so that the sign-ins
// printed at start always work. Only accounts flagged demo are touched.
func SetDemoPassword(ctx context.Context, db *database.DB, password string) error {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return fmt.Errorf("demo password: %w", err)
	}
	return db.Conn(ctx).Model(&auth.User{}).Where("demo = ?", true).
		Updates(map[string]any{"password_hash": hash, "updated_at": time.Now().UTC().Truncate(time.Microsecond)}).Error
}
