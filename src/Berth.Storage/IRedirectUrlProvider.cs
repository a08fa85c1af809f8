namespace Berth.Storage;

/// <summary>Optional: drivers whose objects a client can fetch directly (an object store's presigned URL) let
/// the HTTP layer answer a blob GET with a redirect instead of streaming the bytes itself (Distribution's
/// storage redirect). Decorators forward it when the driver they wrap supports it.</summary>
public interface IRedirectUrlProvider
{
    /// <summary>A URL that lets anyone holding it perform <paramref name="method"/> ("GET" or "HEAD") on the
    /// object at <paramref name="path"/> for <paramref name="expiry"/>, or null when the driver cannot give
    /// one (then the caller serves the object itself). The object's existence is not checked.</summary>
    Task<Uri?> GetRedirectUrlAsync(string path, string method, TimeSpan expiry, CancellationToken cancellationToken = default);
}
