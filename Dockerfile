# Build: docker build -t supportgateway .
# Run:   docker run -p 5080:5080 -v sg-data:/app/data --env-file gateway.env supportgateway
# The image holds no keys: give it yours in the environment (config/gateway.env.example) or mount your
# appsettings.json at /app/appsettings.json (config/production.example.json). The database stays in /app/data.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
# Every project the host references, so that restore sees them all (publish --no-restore needs their assets).
COPY src/SupportGateway.Mail/SupportGateway.Mail.csproj src/SupportGateway.Mail/
COPY src/SupportGateway.Core/SupportGateway.Core.csproj src/SupportGateway.Core/
COPY src/SupportGateway.Host/SupportGateway.Host.csproj src/SupportGateway.Host/
RUN dotnet restore src/SupportGateway.Host/SupportGateway.Host.csproj
# No appsettings.json: the repository's carries the demo keys. The calendars travel with the binary.
COPY config/calendars/ config/calendars/
COPY src/ src/
RUN dotnet publish src/SupportGateway.Host/SupportGateway.Host.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# The image's non-root user (APP_UID, 1654) owns the data folder; a new named volume takes that ownership.
RUN mkdir -p /app/data && chown "$APP_UID" /app/data
USER $APP_UID
ENV ASPNETCORE_URLS=http://+:5080 \
    Logging__LogLevel__Microsoft.AspNetCore=Warning
EXPOSE 5080
# SQLite's default file, data/supportgateway.db, is relative to the working directory /app.
VOLUME /app/data
# The image has no curl: the gateway asks its own /healthz (200, or 503 when a channel that is on is down).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["dotnet", "SupportGateway.Host.dll", "healthcheck"]
ENTRYPOINT ["dotnet", "SupportGateway.Host.dll"]
