using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Berth.Benchmarks;

/// <summary>
/// Micro-benchmarks of Berth's hot paths (BenchmarkDotNet, allocations included).
/// <code>dotnet run -c Release --project bench/Berth.Benchmarks -- --filter '*'</code>
/// Any BenchmarkDotNet option works (<c>--list flat</c>, <c>--job Dry</c>, <c>--inProcess</c>...).
/// The exit code is 1 when a benchmark failed (threw, or gave no result) or when the filter matched nothing,
/// so a short job (<c>--job Dry --inProcess</c>) is a smoke test of the benchmarks themselves.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchConfig.Create()).ToList();
        if (args.Any(a => a is "--list" or "--help" or "-h" or "--version" or "--info"))
        {
            return 0;
        }
        var reports = summaries.SelectMany(s => s.Reports).ToList();
        var failed = reports.Where(r => !r.Success || r.ResultStatistics is null).Select(r => r.BenchmarkCase.DisplayInfo).ToList();
        var invalid = summaries.Where(s => s.HasCriticalValidationErrors)
            .SelectMany(s => s.ValidationErrors.Where(e => e.IsCritical).Select(e => e.Message)).ToList();
        if (reports.Count == 0 && invalid.Count == 0)
        {
            invalid.Add("no benchmark ran (check --filter)");
        }
        foreach (var f in failed)
        {
            Console.Error.WriteLine($"Berth.Benchmarks: FAILED {f}");
        }
        foreach (var e in invalid)
        {
            Console.Error.WriteLine($"Berth.Benchmarks: INVALID {e}");
        }
        Console.WriteLine($"Berth.Benchmarks: {reports.Count - failed.Count} benchmarks succeeded, {failed.Count} failed, {invalid.Count} validation errors");
        return failed.Count > 0 || invalid.Count > 0 ? 1 : 0;
    }
}
