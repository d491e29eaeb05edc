// composecheck loads a compose file with the Compose specification's own loader, compose-go (the
// one Docker Compose v2 runs), so the file is checked without a Docker engine: schema, types,
// `${VAR:?message}` interpolation, profiles, anchors and merges, exactly as `docker compose config`.
//
//	composecheck [-env-file FILE]... [-profile NAME]... [-services | -json] compose.yaml
//
// Exit status 0 and nothing printed when the file loads; the loader's error and status 1 otherwise.
// -services prints the names of the services the profiles enable, -json the resolved project.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

// names collects a flag given several times.
type names []string

func (n *names) String() string     { return strings.Join(*n, ",") }
func (n *names) Set(v string) error { *n = append(*n, v); return nil }

func main() {
	var envFiles, profiles names
	flag.Var(&envFiles, "env-file", "an env file read instead of the .env beside the compose file (repeatable)")
	flag.Var(&profiles, "profile", "a profile to enable (repeatable)")
	services := flag.Bool("services", false, "print the enabled services' names, one a line")
	asJSON := flag.Bool("json", false, "print the resolved project as JSON")
	flag.Parse()
	if flag.NArg() != 1 || (*services && *asJSON) {
		fmt.Fprintln(os.Stderr, "usage: composecheck [-env-file FILE]... [-profile NAME]... [-services | -json] compose.yaml")
		os.Exit(2)
	}

	// The order matters as in Docker Compose: the shell's variables win over the env file's.
	options, err := cli.NewProjectOptions(
		[]string{flag.Arg(0)},
		cli.WithOsEnv,
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
		cli.WithProfiles(profiles),
	)
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	switch {
	case *services:
		for _, name := range project.ServiceNames() {
			fmt.Println(name)
		}
	case *asJSON:
		out, err := project.MarshalJSON()
		if err != nil {
			fail(err)
		}
		fmt.Println(string(out))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "composecheck:", err)
	os.Exit(1)
}
