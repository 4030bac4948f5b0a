package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/vfsmem"
	"github.com/spf13/cobra"
)

// systemFlag registers --system on a listing command and returns where it
// is stored.
func systemFlag(cmd *cobra.Command, e *env) *string {
	name := new(string)
	cmd.Flags().StringVar(name, "system", e.defaultSystem, "the simulated system: "+strings.Join(e.systems.Names(), ", "))
	return name
}

// lookupSystem resolves --system for a listing command.
func lookupSystem(e *env, name string) (model.System, error) {
	sys, err := e.systems.Lookup(name)
	if err != nil {
		return nil, usagef("--system: %v", err)
	}
	return sys, nil
}

func newCollectorsCmd(e *env) *cobra.Command {
	return newInfoListCmd(e, "collectors", "List the file-collection designs of a system",
		"  simrun collectors\n  simrun collectors --system hbase   (in a program that registers it)",
		func(spec model.Spec) []model.Info { return spec.Designs })
}

func newProfilesCmd(e *env) *cobra.Command {
	return newInfoListCmd(e, "profiles", "List the workload profiles of a system", "  simrun profiles",
		func(spec model.Spec) []model.Info { return spec.Profiles })
}

// newInfoListCmd is a listing command over one of a system's named lists
// (designs, profiles): NAME and summary, one per line, of --system's list.
func newInfoListCmd(e *env, use, short, example string, list func(model.Spec) []model.Info) *cobra.Command {
	var system *string
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sys, err := lookupSystem(e, *system)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			for _, x := range list(sys.Spec()) {
				fmt.Fprintf(tw, "%s\t%s\n", x.Name, x.Summary)
			}
			return tw.Flush()
		},
	}
	system = systemFlag(cmd, e)
	return cmd
}

func newSystemsCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "systems",
		Short:   "List the simulated systems (--system NAME selects one)",
		Example: "  simrun systems",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			for _, s := range e.systems.All() {
				spec := s.Spec()
				def := ""
				if spec.Name == e.defaultSystem {
					def = " (default)"
				}
				fmt.Fprintf(tw, "%s%s\t%s\n", spec.Name, def, spec.Summary)
			}
			return tw.Flush()
		},
	}
}

func newOpsCmd(e *env) *cobra.Command {
	sel := selection{env: e}
	cmd := &cobra.Command{
		Use:   "ops",
		Short: "List a configuration's actors with the ops each records, and the system's scenario commands, variants and settings",
		Long: `List what a scenario file may name for one configuration of a system
(seeds/README.md): every actor of the run with the ops it records in the
trace ("run ACTOR until OP" waits for one), whether it calls the filesystem
(then every filesystem op counts too), the system's scenario commands and
the groups a hang may stall, and the variant switches and numeric settings
a configuration may set. The actors depend on the configuration (tikv:
snap-gen-2 with --snap-generators 2, pd with a split-merge profile), so ops
takes the selection flags of run.`,
		Example: `  simrun ops
  simrun ops --collector scan --profile split-merge --snap-generators 2
  simrun ops --system lazyread`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := sel.resolve()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			spec := sel.sys.Spec()
			fmt.Fprintf(w, "system %s, collector %s, profile %s\n\n", spec.Name, sel.collector, sel.profile)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ACTOR\tOP\tWHAT")
			for _, a := range sel.sys.Actors(cfg) {
				fmt.Fprintf(tw, "%s\t\t%s\n", a.Name, a.Summary)
				for _, op := range a.Ops {
					fmt.Fprintf(tw, "\t%s\t%s\n", op.Name, op.Summary)
				}
				if a.FS {
					fmt.Fprintf(tw, "\t(filesystem)\t%s\n", strings.Join(vfsmem.Ops, " "))
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(w, "\nevery actor: the observation kinds (%s)\n", kindNames())
			if len(spec.Commands) > 0 || len(spec.Groups) > 0 {
				fmt.Fprintln(w, "\ncommands (besides run, hang and stop):")
				for _, c := range spec.Commands {
					fmt.Fprintf(w, "  %-28s %s\n", c.Form, c.Summary)
				}
				if len(spec.Groups) > 0 {
					fmt.Fprintf(w, "  hang takes an actor or a group: %s\n", strings.Join(spec.Groups, ", "))
				}
			}
			printInfos(w, "variants (--variant NAME, \"variant NAME\")", spec.Variants)
			printInfos(w, "settings (--set FIELD=VALUE, \"set FIELD VALUE\")", spec.Settings)
			return nil
		},
	}
	sel.register(cmd)
	_ = cmd.Flags().MarkHidden("json")
	_ = cmd.Flags().MarkHidden("strategy")
	_ = cmd.Flags().MarkHidden("max-steps")
	return cmd
}

// printInfos prints a titled list of names and summaries.
func printInfos(w interface{ Write([]byte) (int, error) }, title string, infos []model.Info) {
	if len(infos) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, x := range infos {
		fmt.Fprintf(tw, "  %s\t%s\n", x.Name, x.Summary)
	}
	_ = tw.Flush()
}
