# One image for every process: daphne (web) and manage.py roomworker (worker).
FROM node:20-bookworm-slim AS frontend
WORKDIR /app/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
COPY --from=frontend /app/frontend/dist ./frontend/dist
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0
RUN useradd --system --uid 1000 videoroom && chown -R videoroom /app
USER videoroom
EXPOSE 8000
# Daphne's websocket limits sit above the socket's own 1 MiB frame limit (docs/protocol.md).
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", \
     "--websocket-max-message-size", "2097152", "--websocket-max-frame-size", "2097152", \
     "videoroom_project.asgi:application"]
