using System.Buffers;
using System.IO.Pipelines;

namespace Berth.Api.Endpoints;

internal static class StreamCopy
{
    private const int ChunkSize = 256 * 1024;

    /// <summary>Reads exactly <paramref name="length"/> bytes straight into the response pipe's buffers:
    /// no intermediate copy, large reads, one flush per chunk (the flush applies back-pressure).</summary>
    public static async Task CopyAsync(Stream source, PipeWriter destination, long length, CancellationToken cancellationToken)
    {
        var remaining = length;
        while (remaining > 0)
        {
            var memory = destination.GetMemory((int)Math.Min(ChunkSize, remaining));
            if (memory.Length > remaining)
            {
                memory = memory[..(int)remaining];
            }
            var read = await source.ReadAsync(memory, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException("blob ended early");
            }
            destination.Advance(read);
            remaining -= read;
            var flush = await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flush.IsCanceled || flush.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>Streams a local file range without buffering it whole.</summary>
    public static async Task CopyFileAsync(string file, PipeWriter destination, long offset, long length, CancellationToken cancellationToken)
    {
        var stream = new FileStream(file, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.ReadWrite | FileShare.Delete,
            BufferSize = 0,
            Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
        });
        await using (stream.ConfigureAwait(false))
        {
            stream.Position = offset;
            await CopyAsync(stream, destination, length, cancellationToken).ConfigureAwait(false);
        }
    }
}
