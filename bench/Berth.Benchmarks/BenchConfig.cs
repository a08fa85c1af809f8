using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Berth.Benchmarks;

internal static class BenchConfig
{
    public static IConfig Create() => DefaultConfig.Instance
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddColumn(new ThroughputColumn())
        .WithOptions(ConfigOptions.JoinSummary)
        .HideColumns(Column.Error, Column.StdDev, Column.Gen0, Column.Gen1, Column.Gen2);
}

/// <summary>MB/s (10^6 bytes per second) for benchmarks that move <see cref="IThroughputBenchmark.BytesPerOperation"/> bytes.</summary>
internal sealed class ThroughputColumn : IColumn
{
    public string Id => "Throughput";
    public string ColumnName => "MB/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "megabytes (10^6 bytes) moved per second, from the mean";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (!typeof(IThroughputBenchmark).IsAssignableFrom(benchmarkCase.Descriptor.Type)
            || summary[benchmarkCase]?.ResultStatistics is not { } stats || stats.Mean <= 0)
        {
            return "-";
        }
        var instance = (IThroughputBenchmark)Activator.CreateInstance(benchmarkCase.Descriptor.Type)!;
        return (instance.BytesPerOperation / (stats.Mean / 1e9) / 1e6).ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
    }

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}

/// <summary>A benchmark class whose every operation moves a fixed number of bytes.</summary>
public interface IThroughputBenchmark
{
    long BytesPerOperation { get; }
}
