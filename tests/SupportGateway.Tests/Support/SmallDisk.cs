namespace SupportGateway.Tests.Support;

/// <summary>
/// A small file system of its own (tmpfs of a fixed size, mounted for the test) that a filler file can fill to the
/// last byte, for the disk-full scenarios. The test fails with one clear line when the machine refuses to mount.
/// </summary>
internal sealed class SmallDisk : IAsyncDisposable
{
    private SmallDisk(string path) => Path = path;

    public string Path { get; }

    private string Filler => System.IO.Path.Combine(Path, "filler");

    public static async Task<SmallDisk> MountAsync(int megabytes)
    {
        var path = TempDirectory.Create();
        var (code, output) = await Shell.RunAsync($"mount -t tmpfs -o size={megabytes}m sg-small-disk '{path}'", path, timeout: TimeSpan.FromSeconds(20));
        if (code != 0)
        {
            TempDirectory.Delete(path);
            Assert.Fail($"The disk-full tests mount a {megabytes} MiB tmpfs and this machine refused it (run them as root where mount works): {output.Trim()}");
        }
        return new SmallDisk(path);
    }

    /// <summary>Writes a filler file until the file system says it is full (ENOSPC); returns its size.</summary>
    public long Fill()
    {
        var chunk = new byte[64 << 10];
        Random.Shared.NextBytes(chunk);
        using var file = new FileStream(Filler, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        try
        {
            while (true)
                file.Write(chunk);
        }
        catch (IOException)
        {
            // Full: the last bytes go in smaller pieces, so not even a page is left.
        }
        for (var size = chunk.Length / 2; size >= 512; size /= 2)
        {
            try
            {
                while (true)
                    file.Write(chunk, 0, size);
            }
            catch (IOException)
            {
            }
        }
        return file.Length;
    }

    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    /// <summary>Space returns: the filler is deleted.</summary>
    public void Free() => File.Delete(Filler);

    public async ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var (code, output) = await Shell.RunAsync($"umount '{Path}' || umount -l '{Path}'", "/", timeout: TimeSpan.FromSeconds(20));
        if (code == 0)
            TempDirectory.Delete(Path);
        else
            TestContext.Out.WriteLine($"umount {Path} failed: {output}");
    }
}
