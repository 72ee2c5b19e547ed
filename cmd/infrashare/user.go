package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"infrashare"
	"infrashare/auth"
)

// stdin is a variable so that tests can feed a password.
var stdin io.Reader = os.Stdin

func cmdUser(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{errors.New(`say "user create"`)}
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "e-mail address (the sign-in)")
	org := fs.String("org", "", "organisation code")
	role := fs.String("role", "", "operator, officer, auditor or admin")
	name := fs.String("name", "", "display name")
	admin := fs.Bool("admin", false, "create an administrator in the system organisation")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err}
	}
	if *email == "" || (!*admin && (*org == "" || *role == "")) {
		return usageError{errors.New("--email and either --admin or both --org and --role are required")}
	}
	password, generated := "", false
	if *fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		password, generated = randomDemoPassword(), true
	}
	log := newLogger(cfg, stderr)
	db, err := openAndMigrate(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := auth.NewService(db, infrashare.SystemClock{}, auth.NewAudit(db, infrashare.SystemClock{}))
	var u auth.UserView
	if *admin {
		u, err = svc.CreateFirstAdmin(ctx, *email, *name, password)
	} else {
		u, err = svc.CreateUser(ctx, auth.SystemActor, auth.NewUser{Email: *email, Name: *name, Org: *org, Roles: []string{*role}, Password: password})
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %d %s in %s with roles %s\n", u.ID, u.Email, u.Organization.Code, strings.Join(u.Roles, ","))
	if generated {
		fmt.Fprintf(stdout, "password: %s   (shown once; change it after the first sign-in)\n", password)
	}
	return nil
}
