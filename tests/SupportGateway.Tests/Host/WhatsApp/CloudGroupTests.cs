using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WhatsApp;

/// <summary>
/// Customer groups through the Cloud API's Groups API: a group bound to an organisation (configuration, /bind or the
/// agent API), each member's problem a ticket of their own, members continuing each other's, answers in the group.
/// </summary>
[NonParallelizable]
public sealed class CloudGroupTests : CloudScenario
{
    private const string Account = "ACME-7";
    private const string Configured = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD";
    private const string Stranger = "Y2FwaV9ncm91cDoxOTUwNTU1MDA3OToxMjAzNjMzOTQzMjAdOTY0MTUZD";
    private const string Olga = "79161110001";
    private const string Pavel = "79161110002";
    private const string AgentPhone = "79990001122";

    private protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
    [
        new("SupportGateway:Organisations:0:AccountNumber", Account),
        new("SupportGateway:Organisations:0:Name", "Acme"),
        new("SupportGateway:Channels:WhatsApp:Groups:0:GroupId", Configured),
        new("SupportGateway:Channels:WhatsApp:Groups:0:Organisation", Account),
        new("SupportGateway:Channels:WhatsApp:AgentNumbers:0", "+" + AgentPhone),
        new("SupportGateway:Channels:WhatsApp:Cloud:GroupCreateWait", "00:00:05"),
    ];

    [Test]
    public async Task Two_members_with_two_problems_get_two_tickets_answered_in_the_group_and_may_continue_each_others()
    {
        await PostAsync(GroupDelivery(Configured, "wamid.G1", Olga, "Не печатает принтер в бухгалтерии"));
        var (ackOlga, olgas) = await AckAsync("wamid.G1");
        await PostAsync(GroupDelivery(Configured, "wamid.G2", Pavel, "У меня не открывается 1С"));
        var (ackPavel, pavels) = await AckAsync("wamid.G2");
        Assert.That(pavels, Is.Not.EqualTo(olgas), "each member's problem is their own ticket");
        foreach (var ack in new[] { ackOlga, ackPavel })
        {
            Assert.That((ack["recipient_type"]!.GetValue<string>(), ack["to"]!.GetValue<string>(), ack["type"]!.GetValue<string>()),
                Is.EqualTo(("group", Configured, "text")), "the acknowledgement goes to the group");
        }
        Assert.That(await DbProbe.ListAsync<string>(Gateway.Directory,
            "SELECT o.account_number FROM tickets t JOIN organisations o ON o.id = t.organisation_id ORDER BY t.id"), Is.EqualTo(new[] { Account, Account }));

        // Olga writes again: her own ticket, not Pavel's, though his is newer in the group.
        await PostAsync(GroupDelivery(Configured, "wamid.G3", Olga, "Модель HP LaserJet 400"));
        await Eventually.HoldsAsync(async () => (await InboundOfAsync(olgas)).Count == 2);
        // Pavel continues Olga's ticket: by its number, and by replying to the acknowledgement of it.
        await PostAsync(GroupDelivery(Configured, "wamid.G4", Pavel, $"По {olgas}: у меня тоже не печатает"));
        await PostAsync(GroupDelivery(Configured, "wamid.G5", Pavel, "И второй принтер тоже", replyTo: ackOlga["_id"]!.GetValue<string>()));
        await Eventually.HoldsAsync(async () => (await InboundOfAsync(olgas)).Count == 4);
        Assert.That((await InboundOfAsync(pavels)).Count, Is.EqualTo(1));
        Assert.That(await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM tickets"), Is.EqualTo(2));

        // The agent's answer and the resolution notice reach the group, as text: groups take no buttons.
        var reply = await Agent.PostAsJsonAsync($"/api/v1/tickets/{olgas}/replies", new { text = "Переустановили драйвер, проверьте." });
        Assert.That(reply.StatusCode, Is.EqualTo(HttpStatusCode.Created), await reply.Content.ReadAsStringAsync());
        var answer = await SentAsync(m => Body(m) == "Переустановили драйвер, проверьте.");
        Assert.That((answer["recipient_type"]!.GetValue<string>(), answer["to"]!.GetValue<string>()), Is.EqualTo(("group", Configured)));
        var patch = await Agent.PatchAsJsonAsync($"/api/v1/tickets/{olgas}", new { status = "resolved", resolution = "solved" });
        Assert.That(patch.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var notice = await SentAsync(m => Body(m).Contains(olgas, StringComparison.Ordinal) && Body(m).Contains("решённое", StringComparison.Ordinal));
        Assert.That((notice["type"]!.GetValue<string>(), notice["recipient_type"]!.GetValue<string>()), Is.EqualTo(("text", "group")));
        Assert.That(Graph.Messages.Any(m => m["type"]!.GetValue<string>() == "interactive"), Is.False);

        // Meta reports a group message's states per member; each is recorded on the ticket.
        var status = Status(answer["_id"]!.GetValue<string>(), "delivered", to: Configured);
        var item = status["entry"]![0]!["changes"]![0]!["value"]!["statuses"]![0]!;
        item["recipient_type"] = "group";
        item["recipient_participant_id"] = Olga;
        await PostAsync(status);
        item["recipient_participant_id"] = Pavel;
        await PostAsync(status);
        await Eventually.HoldsAsync(async () => (await TicketAsync(olgas)).GetProperty("audit").EnumerateArray()
            .Count(a => a.GetProperty("action").GetString() == "delivery_status") == 2);
    }

    [Test]
    public async Task An_unbound_group_is_told_once_how_to_bind_and_only_an_agent_number_can_bind_it()
    {
        await PostAsync(GroupDelivery(Stranger, "wamid.U1", Olga, "Здравствуйте, не работает почта"));
        var told = await SentAsync(m => Body(m).Contains("не подключена", StringComparison.Ordinal));
        Assert.That((told["recipient_type"]!.GetValue<string>(), told["to"]!.GetValue<string>(), told["context"]!["message_id"]!.GetValue<string>()),
            Is.EqualTo(("group", Stranger, "wamid.U1")));
        await PostAsync(GroupDelivery(Stranger, "wamid.U2", Pavel, "И у меня не работает"));
        await Eventually.HoldsAsync(async () => await PendingAsync() == 0);
        await PostAsync(GroupDelivery(Stranger, "wamid.U3", Olga, "/bind ACME-7"));
        var refused = await SentAsync(m => Body(m).StartsWith("Only support staff", StringComparison.Ordinal)
            || Body(m).StartsWith("Подключать группы может только", StringComparison.Ordinal));
        Assert.That(refused["context"]!["message_id"]!.GetValue<string>(), Is.EqualTo("wamid.U3"));
        Assert.That(Graph.Messages.Count(m => Body(m).Contains("не подключена", StringComparison.Ordinal)), Is.EqualTo(1), "told once, not at every message");
        Assert.That(await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM tickets"), Is.Zero);

        await PostAsync(GroupDelivery(Stranger, "wamid.U4", AgentPhone, "/bind ACME-7"));
        var bound = await SentAsync(m => Body(m).Contains("(ACME-7)", StringComparison.Ordinal));
        Assert.That(bound["to"]!.GetValue<string>(), Is.EqualTo(Stranger));
        Assert.That(await DbProbe.ScalarAsync<string>(Gateway.Directory, "SELECT bound_by FROM conversation_bindings WHERE conversation = @g", new { g = Stranger }),
            Is.EqualTo("whatsapp:+" + AgentPhone));

        // Support staff talking in the group open nothing; the members' problems do, for the organisation.
        await PostAsync(GroupDelivery(Stranger, "wamid.U5", AgentPhone, "Коллеги, пишите сюда свои вопросы"));
        await PostAsync(GroupDelivery(Stranger, "wamid.U6", Olga, "Не работает почта на телефоне"));
        var (_, number) = await AckAsync("wamid.U6");
        Assert.That(await DbProbe.ListAsync<string>(Gateway.Directory, "SELECT number FROM tickets"), Is.EqualTo(new[] { number }));
        Assert.That(await DbProbe.ScalarAsync<string>(Gateway.Directory,
            "SELECT o.account_number FROM tickets t JOIN organisations o ON o.id = t.organisation_id"), Is.EqualTo(Account));
    }

    [TestCase(false, TestName = "The_endpoint_creates_a_group_binds_it_and_returns_its_invite_link(webhook after the answer)")]
    [TestCase(true, TestName = "The_endpoint_creates_a_group_binds_it_and_returns_its_invite_link(webhook before the answer)")]
    public async Task The_endpoint_creates_a_group_binds_it_and_returns_its_invite_link(bool webhookFirst)
    {
        Graph.WebhookBeforeAnswer = webhookFirst;
        var response = await Agent.PostAsJsonAsync($"/api/v1/organisations/{Account}/whatsapp-group", new { description = "Поддержка Acme" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        var groupId = created.GetProperty("groupId").GetString()!;
        Assert.That(created.GetProperty("inviteLink").GetString(), Is.EqualTo(Graph.Groups[groupId].InviteLink).And.StartsWith("https://chat.whatsapp.com/"));
        Assert.That((created.GetProperty("participantLimit").GetInt32(), created.GetProperty("subject").GetString()), Is.EqualTo((8, "Acme")));
        var asked = Graph.GroupRequests.Single();
        Assert.That((asked["messaging_product"]!.GetValue<string>(), asked["subject"]!.GetValue<string>(), asked["description"]!.GetValue<string>()),
            Is.EqualTo(("whatsapp", "Acme", "Поддержка Acme")));
        Assert.That(await DbProbe.ScalarAsync<string>(Gateway.Directory, "SELECT bound_by FROM conversation_bindings WHERE conversation = @groupId", new { groupId }),
            Is.EqualTo("api:" + GatewayFactory.AgentEmail));

        // The customers join with the link and write: the group is the organisation's.
        await Graph.JoinAsync(groupId, Olga);
        await PostAsync(GroupDelivery(groupId, "wamid.N1", Olga, "Не работает VPN"));
        var (ack, number) = await AckAsync("wamid.N1");
        Assert.That((ack["to"]!.GetValue<string>(), ack["recipient_type"]!.GetValue<string>()), Is.EqualTo((groupId, "group")));
        Assert.That(await DbProbe.ScalarAsync<string>(Gateway.Directory,
            "SELECT o.account_number FROM tickets t JOIN organisations o ON o.id = t.organisation_id WHERE t.number = @number", new { number }), Is.EqualTo(Account));
        var groups = await Agent.GetFromJsonAsync<JsonElement>($"/api/v1/organisations/{Account}/whatsapp-groups");
        var listed = groups.EnumerateArray().Single(g => g.GetProperty("groupId").GetString() == groupId);
        Assert.That(listed.GetProperty("participants").EnumerateArray().Select(p => p.GetString()), Is.EqualTo(new[] { "+" + Olga }));
        Assert.That(groups.EnumerateArray().Any(g => g.GetProperty("groupId").GetString() == Configured && g.GetProperty("boundBy").GetString() == "configuration"));
    }

    [Test]
    public async Task Without_the_webhook_in_time_the_endpoint_answers_202_and_binds_when_it_comes_and_a_missing_link_is_asked_for()
    {
        Graph.HoldLifecycleWebhook = true;
        Graph.LifecycleWithoutLink = true;
        var response = await Agent.PostAsJsonAsync($"/api/v1/organisations/{Account}/whatsapp-group", new { subject = "Acme — поддержка" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
        Assert.That(response.Headers.Location!.ToString(), Is.EqualTo($"/api/v1/organisations/{Account}/whatsapp-groups"));
        var requestId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("requestId").GetString();
        await Graph.SendHeldLifecycleAsync();
        var groupId = Graph.Groups.Single().Key;
        await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<long>(Gateway.Directory,
            "SELECT COUNT(*) FROM conversation_bindings WHERE conversation = @groupId", new { groupId }) == 1);
        Assert.That(await DbProbe.ScalarAsync<string>(Gateway.Directory, "SELECT request_id FROM whatsapp_groups WHERE group_id = @groupId", new { groupId }),
            Is.EqualTo(requestId));

        // A second group whose webhook has no link: the endpoint asks GET /{group-id}/invite_link.
        Graph.HoldLifecycleWebhook = false;
        var second = await Agent.PostAsJsonAsync($"/api/v1/organisations/{Account}/whatsapp-group", new { });
        Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.Created), await second.Content.ReadAsStringAsync());
        var body = await second.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(body.GetProperty("inviteLink").GetString(), Is.EqualTo(Graph.Groups[body.GetProperty("groupId").GetString()!].InviteLink));
    }

    [Test]
    public async Task The_endpoint_answers_problems_for_an_unknown_organisation_bad_input_and_a_failing_graph_api()
    {
        var unknown = await Agent.PostAsJsonAsync("/api/v1/organisations/NOBODY-1/whatsapp-group", new { });
        Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(unknown.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
        var bad = await Agent.PostAsJsonAsync($"/api/v1/organisations/{Account}/whatsapp-group", new { joinApprovalMode = "maybe" });
        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        using (var anonymous = Gateway.CreateClient())
            Assert.That((await anonymous.PostAsJsonAsync($"/api/v1/organisations/{Account}/whatsapp-group", new { })).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));

        Graph.CreateGroupError = 131215;
        var refused = await Agent.PostAsJsonAsync($"/api/v1/organisations/{Account}/whatsapp-group", new { });
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.BadGateway));
        Assert.That((await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), Does.Contain("131215"));

        Graph.CreateGroupError = null;
        Graph.CreateGroupFailsLater = 131216;
        var failed = await Agent.PostAsJsonAsync($"/api/v1/organisations/{Account}/whatsapp-group", new { });
        Assert.That(failed.StatusCode, Is.EqualTo(HttpStatusCode.BadGateway), await failed.Content.ReadAsStringAsync());
        Assert.That(await DbProbe.ScalarAsync<string>(Gateway.Directory, "SELECT state FROM whatsapp_groups"), Is.EqualTo("failed"));
        Assert.That(await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM conversation_bindings"), Is.Zero);
    }

    [Test]
    public async Task Lifecycle_and_participant_webhooks_are_recorded_once_and_a_deleted_group_is_unbound()
    {
        var created = await (await Agent.PostAsJsonAsync($"/api/v1/organisations/{Account}/whatsapp-group", new { })).Content.ReadFromJsonAsync<JsonElement>();
        var groupId = created.GetProperty("groupId").GetString()!;
        await Graph.JoinAsync(groupId, Olga);
        await Graph.JoinAsync(groupId, Pavel);
        await Graph.LeaveAsync(groupId, Pavel);
        // Meta retries a delivery it thinks was lost: the same bytes are stored once.
        var repeat = FakeGraphApi.GroupWebhook("group_participants_update", new JsonObject
        {
            ["timestamp"] = "1739321024", ["group_id"] = groupId, ["type"] = "group_join_request_created", ["join_request_id"] = "JR1", ["wa_id"] = "79161110003",
        });
        await PostAsync(repeat);
        await PostAsync(repeat);
        await Eventually.HoldsAsync(async () => await PendingAsync() == 0 && await EventsAsync(groupId) is { Count: 5 }, 15,
            () => string.Join(" | ", DbProbe.ListAsync<string>(Gateway.Directory, "SELECT state || ' ' || COALESCE(last_error, '') FROM inbound").Result)
                + " // " + string.Join(" | ", EventsAsync(groupId).Result));
        Assert.That(await EventsAsync(groupId), Is.EqualTo(new[]
        {
            "group_lifecycle_update group_create ",
            "group_participants_update group_participants_add +" + Olga,
            "group_participants_update group_participants_add +" + Pavel,
            "group_participants_update group_participants_remove +" + Pavel,
            "group_participants_update group_join_request_created +79161110003",
        }));
        var groups = await Agent.GetFromJsonAsync<JsonElement>($"/api/v1/organisations/{Account}/whatsapp-groups");
        var listed = groups.EnumerateArray().Single(g => g.GetProperty("groupId").GetString() == groupId);
        Assert.That(listed.GetProperty("participants").EnumerateArray().Select(p => p.GetString()), Is.EqualTo(new[] { "+" + Olga }));

        await Graph.DeleteGroupAsync(groupId);
        await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<string>(Gateway.Directory,
            "SELECT state FROM whatsapp_groups WHERE group_id = @groupId", new { groupId }) == "deleted");
        Assert.That(await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM conversation_bindings WHERE conversation = @groupId", new { groupId }),
            Is.Zero);
        Assert.That(await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM contacts"), Is.Zero, "group events make no contacts");
        await PostAsync(GroupDelivery(groupId, "wamid.D1", Olga, "Ещё вопрос"));
        await SentAsync(m => m["to"]!.GetValue<string>() == groupId && Body(m).Contains("не подключена", StringComparison.Ordinal));
    }

    private Task<IReadOnlyList<string>> EventsAsync(string groupId) => DbProbe.ListAsync<string>(Gateway.Directory,
        "SELECT field || ' ' || type || ' ' || COALESCE(participant, '') FROM whatsapp_group_events WHERE group_id = @groupId ORDER BY id", new { groupId });
}

/// <summary>The group endpoint where the Cloud API is not configured.</summary>
[NonParallelizable]
public sealed class CloudGroupOffTests
{
    [Test]
    public async Task Without_the_cloud_api_the_group_endpoint_answers_409()
    {
        using var gateway = new GatewayFactory(new Dictionary<string, string?> { ["SupportGateway:Organisations:0:AccountNumber"] = "ACME-7" });
        using var agent = gateway.Agent();
        var response = await agent.PostAsJsonAsync("/api/v1/organisations/ACME-7/whatsapp-group", new { });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("Cloud"));
        Assert.That(Regex.IsMatch(response.Content.Headers.ContentType!.ToString(), "problem\\+json"));
    }
}
