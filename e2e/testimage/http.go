package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// serve answers every request with the pod's host name and the caller's address, until killed.
func serve(args []string) error {
	addr := ":8080"
	if len(args) > 0 {
		addr = args[0]
	}
	host, _ := os.Hostname()
	return http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s\n", host, r.RemoteAddr)
	}))
}

func httpGet(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: http-get URL")
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(args[0])
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(os.Stdout, resp.Body)
	return err
}
