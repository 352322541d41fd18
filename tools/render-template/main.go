// render-template renders a config template the way dockerize does in Temporal's server images up to 1.29
// (docker-builds' entrypoint.sh: `dockerize -template config_template.yaml:docker.yaml`), so the server can be
// started natively with the environment docker-compose.yml gives the container. The template calls
// `default .Env.X "fallback"`: dockerize's argument order, the reverse of sprig's, which is why the server's own
// `# enable-template` support cannot render it.
//
//	render-template config_template.yaml > config/docker.yaml
package main

import (
	"fmt"
	"os"
	"strings"
	"text/template"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: render-template TEMPLATE")
		os.Exit(2)
	}
	source, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	// The functions the template uses, with dockerize's meaning; anything else fails to parse, loudly.
	funcs := template.FuncMap{
		// The first non-empty value. An unset variable arrives as nil: `.Env` is a map and the key is missing.
		"default": func(values ...any) string {
			for _, v := range values {
				if s, ok := v.(string); ok && s != "" {
					return s
				}
			}
			return ""
		},
		"lower": strings.ToLower,
		"split": strings.Split,
		"trim":  strings.TrimSpace,
	}
	tmpl, err := template.New(os.Args[1]).Funcs(funcs).Parse(string(source))
	if err != nil {
		fail(err)
	}
	if err := tmpl.Execute(os.Stdout, map[string]any{"Env": env}); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "render-template: %v\n", err)
	os.Exit(1)
}
