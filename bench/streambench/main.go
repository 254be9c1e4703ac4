// streambench measures a CRI runtime's streaming server the way kubelet uses it:
// each session asks the runtime for a URL (Exec, PortForward) and runs client-go's
// SPDY clients on it. bench/streaming.sh runs it against berth and containerd in
// one run; it is built there from the Go module proxy, never committed as a binary.
//
//	streambench -endpoint unix:///run/x.sock -image IMAGE [-runs N] [-bytes B] [-log-root DIR] [-out FILE]
//
// It makes one pod with two containers (a sleeping one to exec in, an echo server
// on port 8080 for port-forward), measures, and removes the pod. The report (JSON)
// has the exec session round trip (`true`), stdout and stdin throughput, and the
// port-forward connection latency and throughput.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	cri "k8s.io/cri-api/pkg/apis/runtime/v1"
)

type report struct {
	Runtime             string  `json:"runtime"`
	ExecRoundTripMedian float64 `json:"exec_round_trip_median_ms"`
	ExecRoundTripP90    float64 `json:"exec_round_trip_p90_ms"`
	StdoutMiBps         float64 `json:"stdout_mib_per_s"`
	StdinMiBps          float64 `json:"stdin_mib_per_s"`
	ForwardMedian       float64 `json:"portforward_connection_median_ms"`
	ForwardP90          float64 `json:"portforward_connection_p90_ms"`
	ForwardMiBps        float64 `json:"portforward_mib_per_s"`
	Bytes               int64   `json:"bytes"`
	Runs                int     `json:"runs"`
}

type bench struct {
	rt        cri.RuntimeServiceClient
	container string
	pod       string
}

func must(err error, what string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "streambench: %s: %v\n", what, err)
		os.Exit(1)
	}
}

func ctx() (context.Context, context.CancelFunc) { return context.WithTimeout(context.Background(), 2*time.Minute) }

// exec runs cmd through the runtime's Exec URL with client-go's SPDY executor.
func (b *bench) exec(cmd []string, stdin io.Reader, stdout io.Writer) error {
	c, cancel := ctx()
	defer cancel()
	response, err := b.rt.Exec(c, &cri.ExecRequest{ContainerId: b.container, Cmd: cmd, Stdin: stdin != nil, Stdout: true, Stderr: true})
	if err != nil {
		return err
	}
	u, err := url.Parse(response.Url)
	if err != nil {
		return err
	}
	executor, err := remotecommand.NewSPDYExecutor(&rest.Config{}, "POST", u)
	if err != nil {
		return err
	}
	return executor.StreamWithContext(c, remotecommand.StreamOptions{Stdin: stdin, Stdout: stdout, Stderr: os.Stderr})
}

func percentile(values []float64, p float64) float64 {
	sorted := append([]float64(nil), values...)
	sort.Float64s(sorted)
	return sorted[int(float64(len(sorted)-1)*p)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func mibps(n int64, d time.Duration) float64 { return float64(n) / (1 << 20) / d.Seconds() }

// countingWriter counts what it is given.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// zeros is n zero bytes.
type zeros struct{ left int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.left == 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > z.left {
		n = z.left
	}
	clear(p[:n])
	z.left -= n
	return int(n), nil
}

func (b *bench) forwarder(port int) (int, func()) {
	c, cancel := ctx()
	defer cancel()
	response, err := b.rt.PortForward(c, &cri.PortForwardRequest{PodSandboxId: b.pod})
	must(err, "PortForward")
	u, err := url.Parse(response.Url)
	must(err, "PortForward URL")
	transport, upgrader, err := spdy.RoundTripperFor(&rest.Config{})
	must(err, "SPDY round tripper")
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, "POST", u)
	stop, ready := make(chan struct{}), make(chan struct{})
	forwarder, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", port)}, stop, ready, io.Discard, os.Stderr)
	must(err, "port-forwarder")
	done := make(chan error, 1)
	go func() { done <- forwarder.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-done:
		must(err, "port-forward")
	}
	ports, err := forwarder.GetPorts()
	must(err, "forwarded ports")
	return int(ports[0].Local), func() { close(stop); <-done }
}

// echo sends data through the forward and reads the echo to the end.
func echo(port int, data []byte) ([]byte, error) {
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var wg sync.WaitGroup
	var writeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, writeErr = conn.Write(data)
		conn.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(conn)
	wg.Wait()
	if err == nil {
		err = writeErr
	}
	return got, err
}

func main() {
	endpoint := flag.String("endpoint", "", "the runtime's CRI endpoint (unix://...)")
	image := flag.String("image", "", "a busybox image the runtime can pull")
	runs := flag.Int("runs", 100, "sessions (and connections) for the latencies")
	size := flag.Int64("bytes", 256<<20, "bytes for each throughput")
	logRoot := flag.String("log-root", os.TempDir(), "the pod's log directory's parent")
	name := flag.String("name", "runtime", "the runtime's name in the report")
	out := flag.String("out", "", "write the report here too")
	flag.Parse()

	conn, err := grpc.NewClient(*endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)))
	must(err, "connect")
	b := &bench{rt: cri.NewRuntimeServiceClient(conn)}
	images := cri.NewImageServiceClient(conn)
	c, cancel := ctx()
	defer cancel()
	_, err = images.PullImage(c, &cri.PullImageRequest{Image: &cri.ImageSpec{Image: *image}})
	must(err, "PullImage")

	uid := fmt.Sprintf("streambench-%d", time.Now().UnixNano())
	podConfig := &cri.PodSandboxConfig{
		Metadata:     &cri.PodSandboxMetadata{Name: uid, Namespace: "bench", Uid: uid},
		LogDirectory: *logRoot + "/" + uid,
		Linux:        &cri.LinuxPodSandboxConfig{},
	}
	must(os.MkdirAll(podConfig.LogDirectory, 0o755), "log directory")
	pod, err := b.rt.RunPodSandbox(c, &cri.RunPodSandboxRequest{Config: podConfig})
	must(err, "RunPodSandbox")
	b.pod = pod.PodSandboxId
	defer func() {
		c, cancel := ctx()
		defer cancel()
		b.rt.StopPodSandbox(c, &cri.StopPodSandboxRequest{PodSandboxId: b.pod})
		b.rt.RemovePodSandbox(c, &cri.RemovePodSandboxRequest{PodSandboxId: b.pod})
	}()
	start := func(name string, cmd []string) string {
		created, err := b.rt.CreateContainer(c, &cri.CreateContainerRequest{PodSandboxId: b.pod, SandboxConfig: podConfig,
			Config: &cri.ContainerConfig{Metadata: &cri.ContainerMetadata{Name: name}, Image: &cri.ImageSpec{Image: *image},
				Command: cmd, LogPath: name + ".log", Linux: &cri.LinuxContainerConfig{}}})
		must(err, "CreateContainer "+name)
		_, err = b.rt.StartContainer(c, &cri.StartContainerRequest{ContainerId: created.ContainerId})
		must(err, "StartContainer "+name)
		return created.ContainerId
	}
	b.container = start("main", []string{"sleep", "100000"})
	start("echo", []string{"nc", "-ll", "-p", "8080", "-e", "cat"})

	r := report{Runtime: *name, Bytes: *size, Runs: *runs}
	// Exec round trip: the RPC, the upgrade, the process, its exit status.
	must(b.exec([]string{"true"}, nil, io.Discard), "warm-up exec")
	var times []float64
	for i := 0; i < *runs; i++ {
		t := time.Now()
		must(b.exec([]string{"true"}, nil, io.Discard), "exec true")
		times = append(times, ms(time.Since(t)))
	}
	r.ExecRoundTripMedian, r.ExecRoundTripP90 = percentile(times, 0.5), percentile(times, 0.9)

	// stdout: the container writes size bytes.
	var counted countingWriter
	t := time.Now()
	must(b.exec([]string{"head", "-c", fmt.Sprint(*size), "/dev/zero"}, nil, &counted), "exec head")
	r.StdoutMiBps = mibps(counted.n, time.Since(t))
	if counted.n != *size {
		must(fmt.Errorf("got %d bytes, not %d", counted.n, *size), "stdout")
	}
	// stdin: the container counts size bytes.
	var reply bytes.Buffer
	t = time.Now()
	must(b.exec([]string{"wc", "-c"}, &zeros{left: *size}, &reply), "exec wc")
	r.StdinMiBps = mibps(*size, time.Since(t))
	if got := bytes.TrimSpace(reply.Bytes()); string(got) != fmt.Sprint(*size) {
		must(fmt.Errorf("the container counted %q bytes, not %d", got, *size), "stdin")
	}

	// Port-forward: connections through one session to the echo server.
	port, stop := b.forwarder(8080)
	message := []byte("ping through the forward\n")
	deadline := time.Now().Add(time.Minute)
	for {
		// nc may not be listening yet: a refused dial ends client-go's session, so
		// the first connection is retried on a fresh forwarder.
		got, err := echo(port, message)
		if err == nil && bytes.Equal(got, message) {
			break
		}
		if time.Now().After(deadline) {
			must(errors.New("the echo server never answered"), "port-forward")
		}
		stop()
		time.Sleep(100 * time.Millisecond)
		port, stop = b.forwarder(8080)
	}
	times = nil
	for i := 0; i < *runs; i++ {
		t := time.Now()
		got, err := echo(port, message)
		must(err, "port-forward connection")
		if !bytes.Equal(got, message) {
			must(fmt.Errorf("echo %q", got), "port-forward connection")
		}
		times = append(times, ms(time.Since(t)))
	}
	r.ForwardMedian, r.ForwardP90 = percentile(times, 0.5), percentile(times, 0.9)
	payload := make([]byte, *size/4)
	t = time.Now()
	got, err := echo(port, payload)
	must(err, "port-forward throughput")
	if len(got) != len(payload) {
		must(fmt.Errorf("echoed %d bytes of %d", len(got), len(payload)), "port-forward throughput")
	}
	r.ForwardMiBps = mibps(int64(len(payload)), time.Since(t))
	stop()

	text, _ := json.MarshalIndent(r, "", "  ")
	fmt.Println(string(text))
	if *out != "" {
		must(os.WriteFile(*out, text, 0o644), "report")
	}
}
