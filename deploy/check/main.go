// Command kubecheck decodes Kubernetes manifests strictly into the Prometheus Operator's own Go API
// types (and Kubernetes' own for the built-in kinds), the types the operator itself reads them into.
//
// Usage: kubecheck FILE...
//
// A field the types do not have (a typo such as `expr2`, a field at the wrong level) or a value of
// the wrong type is printed as FILE:LINE: KIND NAME: what failed, and the exit status is 1.
// AlertmanagerConfig child routes are raw JSON in the type (Route.Routes), so a strict decode of the
// resource alone would pass a typo in one: they are decoded again, strictly and recursively, with
// Route.ChildRoutes(), as the operator does when it selects the resource. The types' own Validate
// methods run on the time intervals, matchers and Slack configs. Schema rules the Go types do not
// express (patterns such as a duration's, required fields) are kubeconform's part of the check.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// document is one YAML document of a file and the line it starts on.
type document struct {
	file string
	line int
	text string
}

// problem is one failure, located as precisely as the error allows: key is the field it concerns
// when the error names none, and value (if set) the text that field's line holds.
type problem struct {
	doc   document
	what  string
	key   string
	value string
	err   error
}

var (
	separator    = regexp.MustCompile(`^---\s*$`)
	lineInError  = regexp.MustCompile(`line (\d+)`)
	unknownField = regexp.MustCompile(`unknown field "([^"]+)"`)
	structField  = regexp.MustCompile(`Go struct field [\w.]*\.(\w+) of type`)
)

// newObject is the Go type the operator (or Kubernetes) decodes a resource of this kind into.
func newObject(apiVersion, kind string) any {
	switch apiVersion + " " + kind {
	case "monitoring.coreos.com/v1 PrometheusRule":
		return &monitoringv1.PrometheusRule{}
	case "monitoring.coreos.com/v1 PodMonitor":
		return &monitoringv1.PodMonitor{}
	case "monitoring.coreos.com/v1alpha1 AlertmanagerConfig":
		return &monitoringv1alpha1.AlertmanagerConfig{}
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}
	}
	return nil
}

// split cuts a file into its YAML documents at `---` lines, keeping each one's first line number.
func split(file string, data []byte) []document {
	var docs []document
	var current strings.Builder
	start, number := 1, 0
	flush := func() {
		if strings.TrimSpace(current.String()) != "" {
			docs = append(docs, document{file, start, current.String()})
		}
		current.Reset()
	}
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(make([]byte, 0, 1<<20), 1<<26)
	for scanner.Scan() {
		number++
		if separator.MatchString(scanner.Text()) {
			flush()
			start = number + 1
			continue
		}
		current.WriteString(scanner.Text())
		current.WriteByte('\n')
	}
	flush()
	return docs
}

// line is where in the file an error points: a YAML line it names, the key of the field it names,
// or else the document's first line.
func (p problem) line() int {
	message := p.err.Error()
	if m := lineInError.FindStringSubmatch(message); m != nil {
		n, _ := strconv.Atoi(m[1])
		return p.doc.line + n - 1
	}
	key := p.key
	if m := unknownField.FindStringSubmatch(message); m != nil {
		key = m[1][strings.LastIndex(m[1], ".")+1:]
	} else if m := structField.FindStringSubmatch(message); m != nil {
		key = m[1]
	}
	if key != "" {
		pattern := regexp.MustCompile(`^\s*(?:-\s+)?"?` + regexp.QuoteMeta(key) + `"?\s*:`)
		for i, text := range strings.Split(p.doc.text, "\n") {
			if pattern.MatchString(text) && strings.Contains(text, p.value) {
				return p.doc.line + i
			}
		}
	}
	return p.doc.line
}

func (p problem) String() string {
	return fmt.Sprintf("%s:%d: %s: %v", p.doc.file, p.line(), p.what, p.err)
}

// reporter records a problem at a path of the resource, concerning the field key (holding value).
type reporter func(path, key, value string, err error)

// routes decodes the child routes under route strictly, depth first, as the operator does.
func routes(route *monitoringv1alpha1.Route, path string, report reporter) {
	for _, m := range route.Matchers {
		if err := m.Validate(); err != nil {
			report(path+".matchers", "matchType", string(m.MatchType), err)
		}
	}
	children, err := route.ChildRoutes()
	if err != nil {
		report(path+".routes", "routes", "", err)
		return
	}
	for i := range children {
		routes(&children[i], fmt.Sprintf("%s.routes[%d]", path, i), report)
	}
}

// alertmanagerConfig runs what the strict decode of an AlertmanagerConfig leaves out.
func alertmanagerConfig(config *monitoringv1alpha1.AlertmanagerConfig, report reporter) {
	if config.Spec.Route != nil {
		routes(config.Spec.Route, "spec.route", report)
	}
	for i, receiver := range config.Spec.Receivers {
		for j := range receiver.SlackConfigs {
			if err := receiver.SlackConfigs[j].Validate(); err != nil {
				report(fmt.Sprintf("spec.receivers[%d].slackConfigs[%d]", i, j), "slackConfigs", "", err)
			}
		}
	}
	for i, rule := range config.Spec.InhibitRules {
		for _, m := range append(append([]monitoringv1alpha1.Matcher{}, rule.SourceMatch...), rule.TargetMatch...) {
			if err := m.Validate(); err != nil {
				report(fmt.Sprintf("spec.inhibitRules[%d]", i), "matchType", string(m.MatchType), err)
			}
		}
	}
	for i, interval := range config.Spec.MuteTimeIntervals {
		if err := interval.Validate(); err != nil {
			report(fmt.Sprintf("spec.muteTimeIntervals[%d] (%s)", i, interval.Name), "muteTimeIntervals", "", err)
		}
	}
}

// check decodes one document and returns its problems.
func check(doc document) []problem {
	var meta struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        metav1.ObjectMeta `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(doc.text), &meta); err != nil {
		return []problem{{doc, "not a Kubernetes resource", "", "", err}}
	}
	what := strings.TrimSpace(meta.Kind + " " + meta.Metadata.Name)
	object := newObject(meta.APIVersion, meta.Kind)
	if object == nil {
		return []problem{{doc, what, "kind", "", fmt.Errorf("no Go type here for apiVersion %q kind %q", meta.APIVersion, meta.Kind)}}
	}
	if err := yaml.UnmarshalStrict([]byte(doc.text), object); err != nil {
		return []problem{{doc, what, "", "", err}}
	}
	var problems []problem
	if config, ok := object.(*monitoringv1alpha1.AlertmanagerConfig); ok {
		alertmanagerConfig(config, func(path, key, value string, err error) {
			problems = append(problems, problem{doc, what + ": " + path, key, value, err})
		})
	}
	return problems
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kubecheck FILE...")
		os.Exit(2)
	}
	failed, count := false, 0
	for _, file := range os.Args[1:] {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Printf("%s: %v\n", file, err)
			failed = true
			continue
		}
		for _, doc := range split(file, data) {
			count++
			for _, p := range check(doc) {
				fmt.Println(p)
				failed = true
			}
		}
	}
	if failed {
		os.Exit(1)
	}
	fmt.Printf("ok: %d resources decoded strictly\n", count)
}
