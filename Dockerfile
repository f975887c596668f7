FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY schemas ./schemas
COPY services ./services
COPY workers ./workers
RUN pip install --no-cache-dir -c constraints.txt .
USER nobody
ENTRYPOINT []
CMD ["newswire", "--help"]
