using System.Buffers.Binary;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;

namespace Berth.Storage.S3;

/// <summary>
/// The resumable writer of <see cref="S3Driver"/>. Bytes collect in a buffer of <see cref="S3DriverOptions.ChunkSize"/>;
/// each full buffer becomes a part of a multipart upload on the target key (one part in flight while the next
/// fills). Commit uploads the rest as the last part and completes the upload, or stores the bytes with one
/// PutObject when they never filled a part.
/// <para>Disposed without commit, the writer uploads the rest as a part when it reaches the 5 MiB minimum and
/// stores its state in "&lt;key&gt;~uncommitted": the upload id, the parts (number, ETag, size) and the bytes not
/// in a part. That object is replaced whole, so after a crash it still describes a prefix of what was written:
/// parts uploaded after it was stored are not listed in it, get overwritten by the next session's parts of the
/// same numbers, and are dropped by the completion, which names the parts to keep.</para>
/// </summary>
internal sealed class S3Writer : IStorageWriter
{
    private const int MaxParts = 10_000;
    private static readonly byte[] Magic = "berth-w1"u8.ToArray();

    private readonly S3Driver _driver;
    private readonly string _path;
    private readonly string _key;
    private readonly string _stateKey;
    private readonly int _chunkSize;
    private readonly List<Part> _parts = [];
    private string? _uploadId;
    private long _partsSize;
    private byte[]? _buffer;
    private int _count;
    private Task<Part>? _inflight;
    private byte[]? _inflightBuffer;
    private int _inflightCount;
    private bool _dirty;
    private bool _faulted;
    private WriterState _state;

    private enum WriterState
    {
        Open,
        Committed,
        Cancelled,
        Disposed,
    }

    private readonly record struct Part(int Number, string ETag, long Size);

    private S3Writer(S3Driver driver, string path)
    {
        _driver = driver;
        _path = path;
        _key = driver.KeyOf(path);
        _stateKey = S3Driver.UncommittedKeyOf(_key);
        _chunkSize = (int)driver.Options.ChunkSize;
    }

    public long Size => _partsSize + _inflightCount + _count;

    public static async Task<S3Writer> OpenAsync(S3Driver driver, string path, bool append, CancellationToken cancellationToken)
    {
        var writer = new S3Writer(driver, path);
        if (append)
        {
            await writer.LoadAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Starts empty; the state object of an earlier uncommitted write is replaced at dispose or removed at
            // commit and cancel.
            writer._dirty = true;
        }
        return writer;
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        if (buffer.IsEmpty)
        {
            return;
        }
        _dirty = true;
        try
        {
            while (!buffer.IsEmpty)
            {
                _buffer ??= _driver.PartBuffers.Rent();
                var n = Math.Min(_chunkSize - _count, buffer.Length);
                buffer.Span[..n].CopyTo(_buffer.AsSpan(_count));
                _count += n;
                buffer = buffer[n..];
                if (_count == _chunkSize)
                {
                    await StartPartAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            _faulted = true;
            throw;
        }
    }

    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        try
        {
            await DrainAsync(cancellationToken).ConfigureAwait(false);
            if (_uploadId is null)
            {
                await _driver.PutObjectAsync(_key, _buffer.AsMemory(0, _count), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                if (_count > 0 || _parts.Count == 0)
                {
                    var last = await UploadPartAsync(_buffer ?? [], _count, _parts.Count + 1, cancellationToken).ConfigureAwait(false);
                    AddPart(last);
                    _count = 0;
                }
                await _driver.Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
                {
                    BucketName = _driver.Bucket,
                    Key = _key,
                    UploadId = _uploadId,
                    PartETags = [.. _parts.Select(p => new PartETag(p.Number, p.ETag))],
                }, cancellationToken).ConfigureAwait(false);
            }
            // After the object is in place: a crash in between leaves a stale state that Delete of the directory
            // removes; the other order could lose the written bytes.
            await DeleteStateAsync(cancellationToken).ConfigureAwait(false);
            _state = WriterState.Committed;
        }
        catch (Exception e)
        {
            _faulted = true;
            if (S3Driver.IsServiceFailure(e))
            {
                throw S3Driver.Failure("commit", _path, e);
            }
            throw;
        }
    }

    public async Task CancelAsync(CancellationToken cancellationToken = default)
    {
        // A writer whose write failed can still be cancelled: that is how callers clean up after the failure.
        if (_state != WriterState.Open)
        {
            throw new ObjectDisposedException(nameof(S3Writer), $"the writer of {_path} is closed");
        }
        try
        {
            await DrainQuietlyAsync().ConfigureAwait(false);
            if (_uploadId is not null)
            {
                await _driver.AbortQuietlyAsync(_key, _uploadId).ConfigureAwait(false);
            }
            await DeleteStateAsync(cancellationToken).ConfigureAwait(false);
            _state = WriterState.Cancelled;
        }
        catch (Exception e) when (S3Driver.IsServiceFailure(e))
        {
            _faulted = true;
            throw S3Driver.Failure("cancel", _path, e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_state == WriterState.Disposed)
        {
            return;
        }
        try
        {
            if (_state == WriterState.Open && !_faulted && _dirty)
            {
                await DrainAsync(CancellationToken.None).ConfigureAwait(false);
                if (_count >= S3DriverOptions.MinimumPartSize)
                {
                    await StartPartAsync(CancellationToken.None).ConfigureAwait(false);
                    await DrainAsync(CancellationToken.None).ConfigureAwait(false);
                }
                await StoreStateAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (S3Driver.IsServiceFailure(e))
        {
            _faulted = true;
            throw S3Driver.Failure("save uncommitted write", _path, e);
        }
        finally
        {
            await DrainQuietlyAsync().ConfigureAwait(false);
            if (_buffer is not null)
            {
                _driver.PartBuffers.Return(_buffer);
                _buffer = null;
            }
            _state = WriterState.Disposed;
        }
    }

    private void ThrowIfClosed()
    {
        if (_state != WriterState.Open)
        {
            throw new ObjectDisposedException(nameof(S3Writer), $"the writer of {_path} is closed");
        }
        if (_faulted)
        {
            throw new IOException($"s3: the writer of {_path} failed earlier; open a new one");
        }
    }

    /// <summary>Sends the full buffer as the next part, after the part in flight has finished.</summary>
    private async Task StartPartAsync(CancellationToken cancellationToken)
    {
        await DrainAsync(cancellationToken).ConfigureAwait(false);
        if (_uploadId is null)
        {
            var initiate = new InitiateMultipartUploadRequest { BucketName = _driver.Bucket, Key = _key };
            _driver.ApplyObjectSettings(initiate);
            _uploadId = (await _driver.Client.InitiateMultipartUploadAsync(initiate, cancellationToken).ConfigureAwait(false)).UploadId;
        }
        var number = _parts.Count + 1;
        if (number > MaxParts)
        {
            throw new IOException($"s3: {_path} would need more than {MaxParts} parts; raise storage.s3.chunksize");
        }
        _inflightBuffer = _buffer;
        _inflightCount = _count;
        _buffer = null;
        _count = 0;
        _inflight = UploadPartAsync(_inflightBuffer!, _inflightCount, number, cancellationToken);
    }

    private async Task<Part> UploadPartAsync(byte[] buffer, int count, int number, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream(buffer, 0, count, writable: false);
        var response = await _driver.Client.UploadPartAsync(new UploadPartRequest
        {
            BucketName = _driver.Bucket,
            Key = _key,
            UploadId = _uploadId,
            PartNumber = number,
            PartSize = count,
            InputStream = body,
        }, cancellationToken).ConfigureAwait(false);
        return new Part(number, response.ETag, count);
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (_inflight is null)
        {
            return;
        }
        try
        {
            AddPart(await _inflight.WaitAsync(cancellationToken).ConfigureAwait(false));
        }
        finally
        {
            if (_inflight.IsCompleted)
            {
                ReleaseInflight();
            }
        }
    }

    private async Task DrainQuietlyAsync()
    {
        if (_inflight is null)
        {
            return;
        }
        try
        {
            await _inflight.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The writer is being closed or already failed; the part is not needed.
        }
        ReleaseInflight();
    }

    private void ReleaseInflight()
    {
        if (_inflightBuffer is not null)
        {
            _driver.PartBuffers.Return(_inflightBuffer);
        }
        _inflight = null;
        _inflightBuffer = null;
        _inflightCount = 0;
    }

    private void AddPart(Part part)
    {
        _parts.Add(part);
        _partsSize += part.Size;
    }

    private async Task DeleteStateAsync(CancellationToken cancellationToken) =>
        await _driver.Client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _driver.Bucket, Key = _stateKey }, cancellationToken).ConfigureAwait(false);

    // ---- the state object: "berth-w1", header length (uint32 big-endian), JSON header, bytes not in a part ----

    private async Task StoreStateAsync()
    {
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            json.WriteString("path", _path);
            if (_uploadId is not null)
            {
                json.WriteString("uploadId", _uploadId);
            }
            json.WriteStartArray("parts");
            foreach (var part in _parts)
            {
                json.WriteStartArray();
                json.WriteNumberValue(part.Number);
                json.WriteStringValue(part.ETag);
                json.WriteNumberValue(part.Size);
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        var headerLength = (int)header.Length;
        var content = new byte[Magic.Length + 4 + headerLength + _count];
        Magic.CopyTo(content, 0);
        BinaryPrimitives.WriteUInt32BigEndian(content.AsSpan(Magic.Length), (uint)headerLength);
        header.GetBuffer().AsSpan(0, headerLength).CopyTo(content.AsSpan(Magic.Length + 4));
        _buffer.AsSpan(0, _count).CopyTo(content.AsSpan(Magic.Length + 4 + headerLength));
        await _driver.PutObjectAsync(_stateKey, content, CancellationToken.None).ConfigureAwait(false);
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        byte[] content;
        try
        {
            using var response = await _driver.Client.GetObjectAsync(new GetObjectRequest { BucketName = _driver.Bucket, Key = _stateKey }, cancellationToken).ConfigureAwait(false);
            content = new byte[response.ContentLength];
            await response.ResponseStream.ReadExactlyAsync(content, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (S3Driver.IsNotFound(e))
        {
            throw new PathNotFoundException(_path, _driver.Name);
        }
        if (content.Length < Magic.Length + 4 || !content.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new IOException($"s3: {_stateKey} is not a Berth writer state");
        }
        var headerLength = (int)BinaryPrimitives.ReadUInt32BigEndian(content.AsSpan(Magic.Length));
        var tailStart = Magic.Length + 4 + headerLength;
        if (headerLength < 0 || tailStart > content.Length)
        {
            throw new IOException($"s3: {_stateKey} is truncated");
        }
        using (var header = JsonDocument.Parse(content.AsMemory(Magic.Length + 4, headerLength)))
        {
            var root = header.RootElement;
            _uploadId = root.TryGetProperty("uploadId", out var id) ? id.GetString() : null;
            foreach (var part in root.GetProperty("parts").EnumerateArray())
            {
                AddPart(new Part(part[0].GetInt32(), part[1].GetString()!, part[2].GetInt64()));
            }
        }
        var tail = content.Length - tailStart;
        if (tail >= _chunkSize)
        {
            throw new IOException($"s3: {_stateKey} holds {tail} bytes, more than a part of storage.s3.chunksize");
        }
        if (tail > 0)
        {
            _buffer = _driver.PartBuffers.Rent();
            content.AsSpan(tailStart).CopyTo(_buffer);
            _count = tail;
        }
    }
}
