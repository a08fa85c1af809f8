using System.CommandLine;
using Berth.Commands;

var root = new RootCommand("Berth: an OCI container registry on Distribution-layout storage, with the tools to keep it healthy.");
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(DoctorCommand.Create());
root.Subcommands.Add(LogsCommand.Create());
root.Subcommands.Add(CheckCommand.Create());
root.Subcommands.Add(VersionCommand.Create());
root.Subcommands.Add(GcCommand.Create());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
