// SPDX-License-Identifier: ISC
//
// A Go net/http server on the socket baton passes as fd 3, standard library
// only: os.NewFile + net.FileListener, and http.Server.Shutdown on TERM
// (baton's default stop signal), which stops accepting, lets the requests in
// flight finish, and closes idle keep-alive connections. Without Shutdown,
// TERM kills the process and cuts whatever it is serving.
//
//	go build -o server server.go
//	baton --port=127.0.0.1:8080 -- ./server
//
// It answers "gen=GENERATION pid=PID" on every path, after a pause on
// /sleep/MS (the interop test's slow request).
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	// fd 3 is the first socket baton passes (SERVER_STARTER_PORT names it)
	f := os.NewFile(3, "baton listener")
	ln, err := net.FileListener(f)
	if err != nil {
		log.Fatalf("server: listener on fd 3: %v", err)
	}
	// FileListener made its own copy of the descriptor
	f.Close()

	gen := os.Getenv("SERVER_STARTER_GENERATION")
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/sleep/") {
			ms := strings.TrimPrefix(r.URL.Path, "/sleep/")
			if n, err := strconv.Atoi(ms); err == nil {
				time.Sleep(time.Duration(n) * time.Millisecond)
			}
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "gen=%s pid=%d server=go\n", gen, os.Getpid())
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}

	done := make(chan struct{})
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		// graceful: stop accepting, finish what is in flight (at most 60 s)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Printf("server: shutdown: %v", err)
		}
		close(done)
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		log.Fatalf("server: serve: %v", err)
	}
	<-done
}
