# Build: docker build -t supportgateway .
# Run:   docker run -p 5080:5080 -v sg-data:/app/data supportgateway
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/SupportGateway.Core/SupportGateway.Core.csproj src/SupportGateway.Core/
COPY src/SupportGateway.Host/SupportGateway.Host.csproj src/SupportGateway.Host/
RUN dotnet restore src/SupportGateway.Host/SupportGateway.Host.csproj
COPY appsettings.json ./
COPY config/calendars/ config/calendars/
COPY src/ src/
RUN dotnet publish src/SupportGateway.Host/SupportGateway.Host.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_URLS=http://+:5080
EXPOSE 5080
VOLUME /app/data
# Liveness/readiness: GET /healthz (503 when a channel that is on is down).
ENTRYPOINT ["dotnet", "SupportGateway.Host.dll"]
