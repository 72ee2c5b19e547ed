package migrations

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// referenceTables are what the sharing-ratio report reads besides the BTS
// counts: unit and organisation names, the plan's targets and the settings.
var referenceTables = []string{"admin_units", "organizations", "targets", "settings"}

// m0010ReferenceVersion moves the counter reference_version in the same
// transaction as every change of the reference tables, by triggers, so
// that each replica may keep what the report reads from them for as long
// as the counter has not moved — whoever writes, by whatever path, even by
// hand (docs/performance.md, fourth session).
func m0010ReferenceVersion() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "0010_reference_version",
		Migrate: func(tx *gorm.DB) error {
			stmts := []string{`INSERT INTO counters (name, value) VALUES ('reference_version', 1)`}
			if dialect(tx) == "postgres" {
				stmts = append(stmts, `CREATE FUNCTION bump_reference_version() RETURNS trigger LANGUAGE plpgsql AS $$
					BEGIN
						UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
						RETURN NULL;
					END $$`)
				for _, t := range referenceTables {
					stmts = append(stmts, `CREATE TRIGGER `+t+`_reference_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON `+t+
						` FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version()`)
				}
			} else {
				for _, t := range referenceTables {
					for _, op := range []string{"INSERT", "UPDATE", "DELETE"} {
						stmts = append(stmts, `CREATE TRIGGER `+t+`_reference_version_`+op+` AFTER `+op+` ON `+t+
							` BEGIN UPDATE counters SET value = value + 1 WHERE name = 'reference_version'; END`)
					}
				}
			}
			for _, q := range stmts {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}
}
