// compose-check loads a compose file with compose-go, the loader `docker compose` itself uses: schema
// validation, interpolation (a `${VAR:?message}` without VAR fails), merges, profiles and depends_on. No Docker
// engine is needed. It then checks what the project promises of its topology, and prints the resolved model.
//
//	compose-check [-f docker-compose.yml] [-env-file FILE] [-profile NAME]...
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

type profiles []string

func (p *profiles) String() string     { return strings.Join(*p, ",") }
func (p *profiles) Set(v string) error { *p = append(*p, v); return nil }

func main() {
	file := flag.String("f", "docker-compose.yml", "compose file")
	envFile := flag.String("env-file", "", "env file (as `docker compose --env-file`)")
	quiet := flag.Bool("q", false, "print only problems")
	var active profiles
	flag.Var(&active, "profile", "profile to enable (repeatable)")
	flag.Parse()

	// As `docker compose` does: the OS environment, then the project's .env (or -env-file) for interpolation.
	var envFiles []string // none: the .env beside the compose file
	if *envFile != "" {
		envFiles = []string{*envFile}
	}
	opts := []cli.ProjectOptionsFn{
		cli.WithWorkingDirectory(filepath.Dir(*file)), cli.WithOsEnv, cli.WithEnvFiles(envFiles...), cli.WithDotEnv, cli.WithProfiles(active),
	}
	options, err := cli.NewProjectOptions([]string{*file}, opts...)
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	if problems := check(project); len(problems) > 0 {
		fail(fmt.Errorf("%s", strings.Join(problems, "\n")))
	}
	if !*quiet {
		out, err := project.MarshalYAML()
		if err != nil {
			fail(err)
		}
		os.Stdout.Write(out)
	}
	fmt.Fprintf(os.Stderr, "compose-check: %s is valid (%d services)\n", *file, len(project.Services))
}

// check: every long-running service has a healthcheck, and every dependency waits until its dependency is
// healthy or has completed (compose-go turns a short-form depends_on into service_started, which waits for
// nothing that matters).
func check(project *types.Project) []string {
	var problems []string
	for name, service := range project.Services {
		oneShot := service.Restart == "no"
		if !oneShot && service.HealthCheck == nil {
			problems = append(problems, fmt.Sprintf("service %s: no healthcheck", name))
		}
		for dep, d := range service.DependsOn {
			if d.Condition != types.ServiceConditionHealthy && d.Condition != types.ServiceConditionCompletedSuccessfully {
				problems = append(problems, fmt.Sprintf("service %s: depends_on %s is %q, not healthy or completed", name, dep, d.Condition))
			}
		}
	}
	return problems
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "compose-check: %v\n", err)
	os.Exit(1)
}
