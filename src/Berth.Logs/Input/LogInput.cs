using System.IO.Compression;

namespace Berth.Logs.Input;

/// <summary>
/// One log source: a file (plain or gzip, recognised by its magic bytes whatever its name), a pipe
/// (<c>&lt;(zcat ...)</c>) or standard input.
/// </summary>
public sealed class LogInput
{
    private readonly Func<Stream> _open;

    private LogInput(string name, Func<Stream> open)
    {
        Name = name;
        _open = open;
    }

    /// <summary>As the user named it; <c>-</c> for standard input.</summary>
    public string Name { get; }

    public static LogInput File(string path) => new(path, () => new FileStream(
        path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0, FileOptions.SequentialScan));

    /// <summary>A stream the caller owns the lifetime of (standard input, tests); it is not disposed.</summary>
    public static LogInput FromStream(string name, Stream stream) => new(name, () => new NonClosingStream(stream));

    /// <summary>Opens the source and returns its decoded bytes, and whether it was gzip.</summary>
    internal (Stream Stream, bool Compressed) OpenDecoded()
    {
        var raw = _open();
        try
        {
            Span<byte> magic = stackalloc byte[2];
            var got = 0;
            while (got < 2)
            {
                var n = raw.Read(magic[got..]);
                if (n == 0)
                {
                    break;
                }

                got += n;
            }

            Stream rewound;
            if (raw.CanSeek)
            {
                raw.Seek(-got, SeekOrigin.Current);
                rewound = raw;
            }
            else
            {
                rewound = new PrefixedStream(magic[..got].ToArray(), raw);
            }

            if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
            {
                // GZipStream reads concatenated members (pigz, logrotate's copytruncate appends) too.
                return (new GZipStream(new BufferedStream(rewound, 1 << 20), CompressionMode.Decompress), true);
            }

            return (rewound, false);
        }
        catch
        {
            raw.Dispose();
            throw;
        }
    }

    /// <summary>Bytes already read from a pipe, then the pipe.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
    {
        private int _offset;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_offset < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - _offset);
                prefix.AsSpan(_offset, n).CopyTo(buffer);
                _offset += n;
                return n;
            }

            return inner.Read(buffer);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
