namespace Berth.Core.Gc;

/// <summary>
/// How <c>berth gc</c> runs while registries push into the same storage. The protocol uses only
/// put, get, stat, list and delete of single objects: no lock, no rename, no conditional write, so it
/// holds on an object store as on a filesystem. What it needs from storage: a completed put is seen
/// by every later get, stat and list (read-after-write, which S3 has had since December 2020).
///
/// <para><b>The hazard.</b> A collector decides from a snapshot that blob X is garbage. Meanwhile a
/// client pushes an image that reuses X: it finds X by HEAD (or mounts it, or uploads it again onto
/// the existing data) and PUTs a manifest that names X. If the registry checks that X exists and the
/// collector deletes X afterwards, the tag points at deleted content.</para>
///
/// <para><b>The records.</b> Each side writes its record, then reads the other's (Dekker):
/// <list type="bullet">
/// <item>Collector: records its start time T0 (before it reads anything), marks, then writes a
/// tombstone <c>berth/gc/tombstones/&lt;alg&gt;/&lt;hex&gt;</c> for every digest it is about to delete or
/// unlink (blob data, and manifests whose revision links go), then lists the journal entries since
/// T0 − <see cref="GcTimings.JournalWindow"/>, keeps every candidate an entry names (and everything that kept
/// manifest references, transitively), deletes the kept ones' tombstones, and for each remaining
/// candidate deletes its links, its data and last its tombstone.</item>
/// <item>Manifest PUT: writes a journal entry (<see cref="GcJournal"/>: an object
/// <c>berth/gc/journal/&lt;hour&gt;/&lt;time-sortable id&gt;</c>, or on a filesystem a line with its time appended
/// to the process's file <c>berth/gc/journal/&lt;hour&gt;/log-&lt;random&gt;-&lt;minute&gt;</c>) naming the
/// manifest's own digest, its config, layers and child manifests, BEFORE it checks anything; then lists the
/// tombstones (one list of the algorithm's tombstone directory, which is usually missing); refuses with
/// MANIFEST_BLOB_UNKNOWN if any named digest is tombstoned; only then checks that the references exist and writes;
/// and refuses itself (429) if more than <see cref="GcTimings.MaxWriteDuration"/> passed between the journal write
/// and its last link write.</item>
/// </list></para>
///
/// <para><b>Why a PUT that is accepted never points at deleted content.</b> Take a digest X the PUT
/// names and a collector C that deletes X. C wrote X's tombstone at time t_w and read the journal at
/// t_r &gt; t_w, and deleted X after t_r. The PUT wrote its entry at t_j and listed the tombstones at
/// t_l &gt; t_j.
/// <list type="number">
/// <item>If t_l &gt; t_w, either the list saw X's tombstone and the PUT refused, or C had already removed
/// it. C removes a tombstone of a deleted digest only after deleting X's links and data, so X was gone
/// before t_l, and the PUT's existence checks, which come after t_l, find X only if someone uploaded
/// it again since; C is done with X and does not delete that copy.</item>
/// <item>Otherwise t_l &lt; t_w, hence t_j &lt; t_l &lt; t_w &lt; t_r: the entry existed when C read the journal
/// (t_j is when the write or append of the entry returned; a line C finds without its newline belongs to an
/// append that had not returned when C read it, so to a PUT whose t_l is after t_r, case 1).
/// C skips it only if its id time is before T0 − JournalWindow. But the accepted PUT finished its
/// last write within MaxWriteDuration of t_j, so before T0 − JournalWindow + MaxWriteDuration, which
/// is before T0 as long as the clocks of the two machines differ by less than
/// <see cref="GcTimings.ClockSkewAllowance"/> (JournalWindow = MaxWriteDuration + ClockSkewAllowance). A tag
/// written before T0 is seen by C's mark, so X was marked, not deleted. Otherwise C kept X.</item>
/// </list>
/// Either way a PUT that wrote its tag references content no collector deletes. X may be deleted
/// only if the PUT was refused; the client then uploads X again (blob HEAD and GET answer BLOB_UNKNOWN
/// for a tombstoned digest, so it does) and pushes the manifest again. The same argument covers the
/// manifest's own digest (a re-push of an untagged manifest that <c>--delete-untagged</c> removes) and
/// child manifests of an index: C keeps a kept manifest's references transitively, and grace-protected
/// or journal-protected manifests are marking roots, so a kept child never loses its layers.</para>
///
/// <para><b>Uploads and mounts.</b> Safety above does not depend on them, but a client that is told
/// "201 Created" for a blob should not lose it to a collection already deciding. So an upload's
/// commit and a cross-repository mount first write a journal entry naming the blob, then stat its
/// tombstone, and only then look at the blob data, move the upload in and write the layer link. If
/// there is no tombstone, any collector that tombstones X later reads the journal later and keeps X.
/// If there is one, a mount answers 202 (the client uploads instead), and an upload waits until the
/// tombstone is gone (the collector has either kept X or deleted it and moved on), then looks at the
/// data: present, it links it; missing, it moves its own bytes in. After <see cref="GcTimings.UploadWait"/> it
/// gives up with 429 so the client retries. The long step, moving the bytes in, only happens when X
/// was missing, and then no running collector has X as a candidate (its candidates come from a walk
/// of data that existed) and a later one sees data younger than its grace period.</para>
///
/// <para><b>Collectors among themselves.</b> Two collectors could remove each other's tombstones, so
/// a collection that deletes first writes <c>berth/gc/runs/&lt;id&gt;</c>, then lists the runs and backs
/// off if any other live run is there (the same write-then-read: at most one of two proceeds). A run
/// record is refreshed every <see cref="GcTimings.RunHeartbeat"/>; one untouched for <see cref="GcTimings.RunStaleAfter"/>
/// belongs to a dead collection, and the next collection removes its leftover tombstones. A collector
/// that cannot refresh its record stops deleting well before then.</para>
///
/// <para><b>Cost on the hot path.</b> Manifest PUT: one small put and one list. Upload commit and
/// mount: one small put and one stat. Blob HEAD/GET: a list of the tombstone directory cached for
/// <see cref="GcTimings.TombstoneCacheTtl"/> per instance (that check is only there to make clients upload
/// again, not for safety). The collector prunes journal hours older than its window.</para>
///
/// <para><b>What it does not cover.</b> Writers that do not follow the protocol: CNCF Distribution
/// and Berth versions before it must be stopped or read-only while a collection deletes.</para>
/// </summary>
public static class GcProtocol
{
    /// <summary>The timings every Berth instance and collector use; tests shorten them consistently on both sides.</summary>
    public static GcTimings Timings { get; } = new();
}

/// <summary>The time limits of <see cref="GcProtocol"/>. Registry instances and collectors must use the same values.</summary>
public sealed record GcTimings
{
    /// <summary>Longest a manifest PUT may take from its journal write to its last link write.</summary>
    public TimeSpan MaxWriteDuration { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How far apart the clocks of registry instances and the collector may be.</summary>
    public TimeSpan ClockSkewAllowance { get; init; } = TimeSpan.FromMinutes(4);

    /// <summary>How far back before its start a collector reads the journal.</summary>
    public TimeSpan JournalWindow => MaxWriteDuration + ClockSkewAllowance;

    /// <summary>How long an upload commit waits for a collection to finish with a tombstoned blob.</summary>
    public TimeSpan UploadWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long blob HEAD/GET reuse a listing of the tombstones.</summary>
    public TimeSpan TombstoneCacheTtl { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a deleting collector refreshes its run record.</summary>
    public TimeSpan RunHeartbeat { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A run record not refreshed for this long belongs to a dead collector.</summary>
    public TimeSpan RunStaleAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A collector that could not refresh its record for this long stops deleting.</summary>
    public TimeSpan RunSelfExpiry { get; init; } = TimeSpan.FromMinutes(2);
}
