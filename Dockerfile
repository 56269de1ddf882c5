FROM python:3.12-slim
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir ./schemas ./provenance ./server
EXPOSE 8000
CMD ["pysetl-hub-server", "serve", "--host", "0.0.0.0"]
