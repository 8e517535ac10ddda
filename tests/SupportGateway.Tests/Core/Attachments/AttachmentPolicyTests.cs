using System.IO.Compression;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Attachments;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Core.Attachments;

public sealed class AttachmentPolicyTests
{
    private static readonly AttachmentPolicy Policy = new(Options.Create(new AttachmentOptions()));

    private static readonly byte[] Pdf = "%PDF-1.7\n%âãÏÓ\n1 0 obj\n"u8.ToArray();
    private static readonly byte[] Gif = "GIF89a\x01\x00\x01\x00\x00\x00\x00;"u8.ToArray();
    private static readonly byte[] WebP = [.. "RIFF"u8, 0x24, 0, 0, 0, .. "WEBPVP8L"u8, 0x0D, 0, 0, 0, 0x2F, 0x00, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    private static readonly byte[] Elf = [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    private static readonly byte[] MachO = [0xCF, 0xFA, 0xED, 0xFE, 7, 0, 0, 1, 3, 0, 0, 0];
    private static readonly byte[] Ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0, 0, 0];

    [Test]
    public void Files_that_are_what_they_claim_keep_their_type()
    {
        Assert.That(Policy.Vet("screen.png", "image/png", SampleFiles.OnePixelPng, inline: true), Is.EqualTo(new VettedFile("screen.png", "image/png", true, null)));
        Assert.That(Policy.Vet("photo.JPG", "image/jpeg", SampleFiles.Jpeg(100)).ContentType, Is.EqualTo("image/jpeg"));
        Assert.That(Policy.Vet("anim.gif", "image/gif", Gif).ContentType, Is.EqualTo("image/gif"));
        Assert.That(Policy.Vet("pic.webp", "image/webp", WebP).ContentType, Is.EqualTo("image/webp"));
        Assert.That(Policy.Vet("акт.pdf", "Application/PDF; name=\"акт.pdf\"", Pdf).ContentType, Is.EqualTo("application/pdf"));
        Assert.That(Policy.Vet("report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Zip()).Refusal, Is.Null);
        Assert.That(Policy.Vet("old.xls", "application/vnd.ms-excel", Ole).Refusal, Is.Null);
        Assert.That(Policy.Vet("log.txt", "text/plain; charset=\"UTF-8\"", "hello"u8).ContentType, Is.EqualTo("text/plain; charset=utf-8"));
        Assert.That(Policy.Vet("voice.ogg", "audio/ogg", "OggS\0\x02"u8).ContentType, Is.EqualTo("audio/ogg"), "a type with no signature here is taken as declared");
    }

    [Test]
    public void A_file_sent_without_a_type_gets_the_one_its_bytes_prove()
    {
        Assert.That(Policy.Vet("scan.pdf", "application/octet-stream", Pdf).ContentType, Is.EqualTo("application/pdf"));
        Assert.That(Policy.Vet("image", null, SampleFiles.OnePixelPng).ContentType, Is.EqualTo("image/png"));
        Assert.That(Policy.Vet("data.bin", "", [1, 2, 3]).ContentType, Is.EqualTo("application/octet-stream"));
        Assert.That(Policy.Vet("report.docx", "application/octet-stream", Zip()).ContentType, Is.EqualTo("application/octet-stream"), "a ZIP may be many things");
    }

    [TestCase("screen.png", "image/png", "a PNG image")]
    [TestCase("screen.png", "application/octet-stream", "a PNG image")]
    [TestCase("photo.jpg", "image/jpeg", "a JPEG image")]
    [TestCase("invoice.pdf", "application/pdf", "a PDF document")]
    [TestCase("report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "a ZIP archive")]
    [TestCase("old.doc", "application/msword", "an OLE compound file")]
    [TestCase("song.mp3", "audio/mpeg", "audio/mpeg")]
    [TestCase("notes", "image/gif", "a GIF image")]
    public void A_program_in_disguise_is_a_plain_file_never_inline(string name, string type, string claim)
    {
        var vetted = Policy.Vet(name, type, SampleFiles.WindowsProgram(), inline: true);

        Assert.That((vetted.ContentType, vetted.Inline), Is.EqualTo(("application/octet-stream", false)));
        Assert.That(vetted.Refusal, Is.EqualTo($"'{name}' claims to be {claim} but its content is a program."));
        Assert.That(vetted.FileName, Is.EqualTo(name), "the name stays: the agent sees what the sender called it");
    }

    [Test]
    public void Every_kind_of_program_and_a_mismatch_between_checkable_kinds_is_caught()
    {
        Assert.That(Policy.Vet("a.png", "image/png", Elf).Refusal, Does.Contain("a program"));
        Assert.That(Policy.Vet("a.png", "image/png", MachO).Refusal, Does.Contain("a program"));
        Assert.That(Policy.Vet("a.pdf", "application/pdf", SampleFiles.OnePixelPng).Refusal, Is.EqualTo("'a.pdf' claims to be a PDF document but its content is a PNG image."));
        Assert.That(Policy.Vet("a.png", "image/png", "<svg onload=alert(1)>"u8).Refusal, Does.Contain("an SVG image"));
        Assert.That(Policy.Vet("a.jpg", "image/jpeg", "<!DOCTYPE html><script>alert(1)</script>"u8).Refusal, Does.Contain("an HTML page"));
        Assert.That(Policy.Vet("a.png", "image/png", "fake png"u8).Refusal, Is.EqualTo("'a.png' claims to be a PNG image but its content is something else."));
        Assert.That(Policy.Vet("readme", "text/plain", "MZ is the Mexican zone"u8).Refusal, Is.Null, "two letters are not a program");
    }

    [Test]
    public void Active_content_under_its_own_name_is_not_accepted_but_text_that_looks_like_code_stays_text()
    {
        Assert.That(Policy.Vet("setup.exe", "application/x-msdownload", SampleFiles.WindowsProgram()).Refusal,
            Is.EqualTo("'setup.exe' is a program (application/x-msdownload), a kind of file not accepted here."));
        Assert.That(Policy.Vet("run.bat", "application/octet-stream", "@echo off"u8).Refusal, Does.Contain("a script"));
        Assert.That(Policy.Vet("page.html", "text/html", "<p>hi</p>"u8).Refusal, Does.Contain("an HTML page"));
        Assert.That(Policy.Vet("logo.svg", "image/svg+xml", "<?xml version=\"1.0\"?><svg/>"u8).Refusal, Does.Contain("an SVG image"));
        Assert.That(Policy.Vet("install", null, "#!/bin/sh\nrm -rf /\n"u8).Refusal, Does.Contain("a script"));
        var pasted = Policy.Vet("snippet.txt", "text/plain", "<script>alert(1)</script>"u8);
        Assert.That((pasted.ContentType, pasted.Refusal), Is.EqualTo(("text/plain", (string?)null)), "served as text/plain with nosniff it stays text");
    }

    [Test]
    public void The_allow_list_decides_by_pattern()
    {
        var strict = new AttachmentPolicy(Options.Create(new AttachmentOptions { AllowedTypes = ["image/*", "application/pdf"] }));

        Assert.That(strict.Vet("a.png", "image/png", SampleFiles.OnePixelPng).Refusal, Is.Null);
        Assert.That(strict.Vet("a.pdf", "application/pdf", Pdf).Refusal, Is.Null);
        var zip = strict.Vet("a.zip", "application/zip", Zip());
        Assert.That((zip.ContentType, zip.Refusal), Is.EqualTo(("application/octet-stream", "'a.zip' is a ZIP archive (application/zip), a kind of file not accepted here.")));
        Assert.That(strict.Vet("a.txt", "text/plain", "x"u8).Refusal, Is.EqualTo("'a.txt' is of type text/plain, a kind of file not accepted here."));
        Assert.That(strict.Vet("logo.svg", "image/svg+xml", "<svg/>"u8).Refusal, Is.Null, "an administrator may allow SVG on purpose");
    }

    [TestCase("image/png", true)]
    [TestCase("image/*", true)]
    [TestCase("application/vnd.oasis.opendocument.*", true)]
    [TestCase("png", false)]
    [TestCase("*/*", false)]
    [TestCase("image/p*g", false)]
    [TestCase("image/", false)]
    [TestCase("", false)]
    public void Allowed_types_are_checked_at_start(string pattern, bool valid)
    {
        var result = new AttachmentOptionsValidator().Validate(null, new AttachmentOptions { AllowedTypes = [pattern] });
        Assert.That(result.Succeeded, Is.EqualTo(valid));
        if (!valid)
            Assert.That(result.FailureMessage, Does.StartWith("SupportGateway:Attachments:AllowedTypes: '"));
    }

    [Test]
    public void An_image_declaring_more_pixels_than_allowed_is_a_plain_file_read_from_its_header_only()
    {
        var bomb = SampleFiles.PngDeclaring(100_000, 100_000); // 64 bytes that decode to 10^10 pixels
        var vetted = Policy.Vet("bomb.png", "image/png", bomb, inline: true);

        Assert.That((vetted.ContentType, vetted.Inline), Is.EqualTo(("application/octet-stream", false)));
        Assert.That(vetted.Refusal, Does.Contain("10,000,000,000 pixels"));
        Assert.That(ImageSize.Pixels(FileFormat.Jpeg, SampleFiles.Jpeg(1000)), Is.EqualTo(960L * 720));
        Assert.That(ImageSize.Pixels(FileFormat.Gif, Gif), Is.EqualTo(1));
        Assert.That(ImageSize.Pixels(FileFormat.WebP, WebP), Is.EqualTo(1));
        Assert.That(ImageSize.Pixels(FileFormat.Png, SampleFiles.OnePixelPng), Is.EqualTo(1));
        Assert.That(Policy.Vet("ok.png", "image/png", SampleFiles.PngDeclaring(4000, 3000)).Refusal, Is.Null);
    }

    [Test]
    public void A_zip_bomb_is_stored_as_it_is_and_never_expanded()
    {
        // One entry of 256 MiB of zeros deflates to a few hundred kilobytes; the bytes are streamed, never held inflated.
        using var bomb = new MemoryStream();
        using (var archive = new ZipArchive(bomb, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = archive.CreateEntry("zeros.bin", CompressionLevel.SmallestSize).Open();
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 256; i++)
                entry.Write(zeros);
        }
        var bytes = bomb.ToArray();

        var before = GC.GetAllocatedBytesForCurrentThread();
        var vetted = Policy.Vet("archive.zip", "application/zip", bytes);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That((vetted.ContentType, vetted.Refusal), Is.EqualTo(("application/zip", (string?)null)));
        Assert.That(bytes.Length, Is.LessThan(8 << 20));
        Assert.That(allocated, Is.LessThan(64 * 1024), "judging a file reads its first kilobyte, whatever it expands to");
    }

    [Test]
    public void Random_and_truncated_files_with_random_names_never_throw_and_names_stay_clean()
    {
        var random = new Random(20261202);
        byte[][] seeds = [SampleFiles.OnePixelPng, SampleFiles.Jpeg(200), Gif, WebP, Pdf, Zip(), Ole, SampleFiles.WindowsProgram(), Elf, MachO, "<svg/>"u8.ToArray()];
        string[] types = ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "application/zip", "application/msword", "text/plain", "", "x/y; a=b", "image/*"];
        for (var i = 0; i < 5000; i++)
        {
            var bytes = seeds[i % seeds.Length][..random.Next(0, seeds[i % seeds.Length].Length + 1)];
            for (var flips = random.Next(0, 4); flips > 0 && bytes.Length > 0; flips--)
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            var name = new string([.. Enumerable.Range(0, random.Next(0, 300)).Select(_ => (char)random.Next(0, 0x3000))]) + (random.Next(2) == 0 ? ".png" : "");
            var vetted = Policy.Vet(name, types[random.Next(types.Length)], bytes, inline: true);
            Assert.That(FileNames.Clean(vetted.FileName), Is.EqualTo(vetted.FileName), "a stored name is already clean");
            Assert.That(System.Text.Encoding.UTF8.GetByteCount(vetted.FileName), Is.LessThanOrEqualTo(FileNames.MaxBytes));
            Assert.That(vetted.FileName.Any(c => char.IsControl(c) || c is '/' or '\\' or '\u202E'), Is.False);
            Assert.That(vetted.Refusal is null || vetted.ContentType == "application/octet-stream" && !vetted.Inline, Is.True);
        }
    }

    private static byte[] Zip()
    {
        using var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var writer = new StreamWriter(archive.CreateEntry("[Content_Types].xml").Open());
            writer.Write("<Types/>");
        }
        return buffer.ToArray();
    }
}
