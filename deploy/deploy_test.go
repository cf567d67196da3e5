// Package deploy holds the exchange's deployment files; this test checks
// that they agree with each other and with what `app-token serve` serves.
package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// The exchange's port and probe paths (internal/sts routes).
const (
	port    = 8080
	healthz = "/healthz"
	readyz  = "/readyz"
)

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom any    `yaml:"valueFrom"`
	} `yaml:"env"`
	ReadinessProbe  *probe `yaml:"readinessProbe"`
	LivenessProbe   *probe `yaml:"livenessProbe"`
	StartupProbe    *probe `yaml:"startupProbe"`
	SecurityContext *struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type podSpec struct {
	TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               *struct {
		RunAsNonRoot bool `yaml:"runAsNonRoot"`
		RunAsUser    int  `yaml:"runAsUser"`
		FSGroup      int  `yaml:"fsGroup"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []struct {
		Name   string `yaml:"name"`
		Secret *struct {
			SecretName string `yaml:"secretName"`
		} `yaml:"secret"`
	} `yaml:"volumes"`
}

type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		// Deployment
		Replicas int `yaml:"replicas"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		// Service
		Ports []struct {
			Port       int `yaml:"port"`
			TargetPort any `yaml:"targetPort"`
		} `yaml:"ports"`
		// HorizontalPodAutoscaler
		ScaleTargetRef struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"scaleTargetRef"`
		MinReplicas int `yaml:"minReplicas"`
		MaxReplicas int `yaml:"maxReplicas"`
	} `yaml:"spec"`
	raw map[string]any
}

func load(t *testing.T, file string) []object {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []object
	dec := yaml.NewDecoder(bytes.NewReader(b))
	raw := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var o object
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if err := raw.Decode(&o.raw); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out = append(out, o)
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no object", file)
	}
	return out
}

// checkContainer checks what every deployment of the exchange must have.
func checkContainer(t *testing.T, where string, c container, portName string) {
	t.Helper()
	if len(c.Args) == 0 || c.Args[0] != "serve" || !slices.Contains(c.Args, "--listen=:"+strconv.Itoa(port)) {
		t.Errorf("%s: args %v do not run `serve --listen=:%d`", where, c.Args, port)
	}
	if !slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--url=https://") }) {
		t.Errorf("%s: args %v do not set --url, the audience", where, c.Args)
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != port || c.Ports[0].Name != portName {
		t.Errorf("%s: ports %+v, want one %q on %d", where, c.Ports, portName, port)
	}
	probePort := func(p *probe, path, kind string) {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s: no %s probe", where, kind)
			return
		}
		if p.HTTPGet.Path != path {
			t.Errorf("%s: %s probe on %s, want %s", where, kind, p.HTTPGet.Path, path)
		}
		switch v := p.HTTPGet.Port.(type) {
		case string:
			if v != c.Ports[0].Name {
				t.Errorf("%s: %s probe on port %q, which is not the container's", where, kind, v)
			}
		case uint64:
			if v != port {
				t.Errorf("%s: %s probe on port %d", where, kind, v)
			}
		default:
			t.Errorf("%s: %s probe port %v (%T)", where, kind, v, v)
		}
	}
	probePort(c.LivenessProbe, healthz, "liveness")
	probePort(c.StartupProbe, readyz, "startup")
	for _, e := range c.Env {
		if strings.Contains(e.Name, "PRIVATE_KEY") && e.Value != "" {
			t.Errorf("%s: the private key is written in the manifest (%s)", where, e.Name)
		}
	}
}

func TestKubernetes(t *testing.T) {
	t.Parallel()
	objs := load(t, "kubernetes.yaml")
	byKind := map[string]object{}
	for _, o := range objs {
		byKind[o.Kind] = o
	}
	d, ok := byKind["Deployment"]
	if !ok {
		t.Fatal("no Deployment")
	}
	svc, ok := byKind["Service"]
	if !ok {
		t.Fatal("no Service")
	}
	hpa, ok := byKind["HorizontalPodAutoscaler"]
	if !ok {
		t.Fatal("no HorizontalPodAutoscaler")
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	checkContainer(t, "Deployment", c, "http")
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != readyz {
		t.Error("Deployment: no readiness probe on " + readyz)
	}
	sc := pod.SecurityContext
	if sc == nil || !sc.RunAsNonRoot || sc.RunAsUser == 0 {
		t.Errorf("Deployment: pod securityContext %+v does not run as non-root", sc)
	}
	csc := c.SecurityContext
	if csc == nil || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation || !csc.ReadOnlyRootFilesystem || !slices.Contains(csc.Capabilities.Drop, "ALL") {
		t.Errorf("Deployment: container securityContext %+v", csc)
	}
	if pod.TerminationGracePeriodSeconds <= 10 {
		t.Errorf("terminationGracePeriodSeconds %d leaves no time for the 10 s drain", pod.TerminationGracePeriodSeconds)
	}
	// The key file named in args lives on the Secret volume, readable by
	// the pod's group.
	var keyFile string
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--private-key-file="); ok {
			keyFile = v
		}
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.Secret != nil && keyFile != "" && strings.HasPrefix(keyFile, m.MountPath+"/") {
				mounted = true
			}
		}
	}
	if !mounted || sc.FSGroup != sc.RunAsUser {
		t.Errorf("the key file %q is not on a Secret volume readable by the non-root user", keyFile)
	}
	if d.Spec.Replicas < 2 {
		t.Errorf("replicas %d: run at least two", d.Spec.Replicas)
	}
	for k, v := range d.Spec.Selector.MatchLabels {
		if d.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("the Deployment's selector %s=%s does not select its pods", k, v)
		}
	}
	if a := d.Spec.Template.Metadata.Annotations; a["prometheus.io/port"] != strconv.Itoa(port) || a["prometheus.io/path"] != "/metrics" {
		t.Errorf("scrape annotations %v", a)
	}

	selector, _ := svc.raw["spec"].(map[string]any)["selector"].(map[string]any)
	if len(selector) == 0 {
		t.Error("the Service selects nothing")
	}
	for k, v := range selector {
		if d.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("the Service's selector %s=%v does not select the Deployment's pods", k, v)
		}
	}
	if len(svc.Spec.Ports) != 1 || (svc.Spec.Ports[0].TargetPort != c.Ports[0].Name && svc.Spec.Ports[0].TargetPort != uint64(port)) {
		t.Errorf("the Service's ports %+v do not reach the container's %q", svc.Spec.Ports, c.Ports[0].Name)
	}
	if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != d.Metadata.Name {
		t.Errorf("the autoscaler scales %+v, not the Deployment %q", hpa.Spec.ScaleTargetRef, d.Metadata.Name)
	}
	if hpa.Spec.MinReplicas < 2 || hpa.Spec.MaxReplicas <= hpa.Spec.MinReplicas {
		t.Errorf("autoscaler bounds %d..%d", hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
	}
}

func TestCloudRun(t *testing.T) {
	t.Parallel()
	objs := load(t, "cloudrun.yaml")
	if len(objs) != 1 || objs[0].Kind != "Service" || objs[0].APIVersion != "serving.knative.dev/v1" {
		t.Fatalf("cloudrun.yaml holds %d objects, the first a %s %s", len(objs), objs[0].APIVersion, objs[0].Kind)
	}
	pod := objs[0].Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	// Cloud Run names the port by protocol: http1 for HTTP/1.
	checkContainer(t, "Cloud Run", pod.Containers[0], "http1")
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms []string
	var user, expose, entry string
	cgoOff := false
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, f[1])
			user = "" // USER applies to its stage
		case "USER":
			user = f[1]
		case "EXPOSE":
			expose = f[1]
		case "ENTRYPOINT":
			entry = strings.Join(f[1:], " ")
		case "RUN":
			if strings.Contains(line, "CGO_ENABLED=0") && strings.Contains(line, "go build") {
				cgoOff = true
			}
		}
	}
	if len(froms) < 2 {
		t.Fatalf("FROM lines %v: want a build stage and a runtime stage", froms)
	}
	final := froms[len(froms)-1]
	if final != "scratch" && !strings.HasPrefix(final, "gcr.io/distroless/static") {
		t.Errorf("the runtime image %s is neither distroless static nor scratch", final)
	}
	if !cgoOff {
		t.Error("the binary is not built with CGO_ENABLED=0 (static)")
	}
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("USER %q: want a numeric non-root user (Kubernetes checks runAsNonRoot by uid)", user)
	}
	if expose != strconv.Itoa(port) {
		t.Errorf("EXPOSE %s, want %d", expose, port)
	}
	if !regexp.MustCompile(`^\["/app-token"\]$`).MatchString(entry) {
		t.Errorf("ENTRYPOINT %s", entry)
	}
}
