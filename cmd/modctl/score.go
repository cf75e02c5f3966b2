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

	"moderation/detectors/adtext"
)

func scoreCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	return scoreTexts(args, os.Stdin, stdout, stderr)
}

// scoreTexts is scoreCmd reading stdin from in, for tests.
func scoreTexts(args []string, in io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", "", "the model to score with (written by modctl train); default: the model built into the binary")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl score [-model FILE] [TEXT...]\n\n"+
			"Scores texts as the ad_content detector does: the score, the features found, the normalised\n"+
			"text and what normalisation undid, the contact handles and links, and the text the model read.\n"+
			"Without TEXT, scores each line of standard input.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	m := adtext.Default()
	if *modelPath != "" {
		var err error
		if m, err = adtext.LoadFile(*modelPath); err != nil {
			return err
		}
	}
	show := func(text string) {
		p, f := m.Analyze(text)
		fmt.Fprintf(stdout, "%.3f  %s\n", p, text)
		fmt.Fprintf(stdout, "       features:     %s\n", f.Explain())
		n := adtext.Normalize(text)
		if n.Text != text {
			fmt.Fprintf(stdout, "       normalised:   %s\n", n.Text)
		}
		if len(n.Found) > 0 {
			fmt.Fprintf(stdout, "       undone:       %s\n", strings.Join(n.Found, "; "))
		}
		if ds := adtext.Destinations(n.Text); len(ds) > 0 {
			var parts []string
			for _, d := range ds {
				parts = append(parts, d.Kind+" "+d.Value)
			}
			fmt.Fprintf(stdout, "       destinations: %s\n", strings.Join(parts, ", "))
		}
		fmt.Fprintf(stdout, "       model read:   %s\n", adtext.ModelText(text))
	}
	if fs.NArg() > 0 {
		for _, t := range fs.Args() {
			show(t)
		}
		return nil
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	n := 0
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			show(t)
			n++
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read standard input: %w", err)
	}
	if n == 0 {
		return errors.New("score needs TEXT arguments or lines on standard input")
	}
	return nil
}
