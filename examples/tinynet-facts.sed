# The facts about examples/tinynet that its maintainer knows and a scan cannot: what README.md,
# LICENSE, training/train.py and data/make_dataset.py say. scripts/example applies them to the
# manifest `dh-mlmodel init` drafted, replacing each FIXME placeholder:
#
#     sed -i -f examples/tinynet-facts.sed debian/mlmodel.toml
#
# The drafted model holds both files training/train.py writes (the safetensors weights and the
# legacy pickle). The dataset's lines come first because the model's `license` line would match
# them too.
s|^name = "FIXME: the dataset's name"$|name = "moons"|
s|^license = "FIXME: the dataset's.*|license = "CC0-1.0"|
s|^url = 'FIXME: where to download it.*|path = "data/moons.csv"|
/^public = "FIXME/d
s|^license = "FIXME: the weights'.*|license = "MIT"|
s|^program = 'FIXME: the training program.*|program = ["training/train.py", "tinynet"]|
s|^command = "FIXME: the command that trains.*|command = "python3 training/train.py --data {data} --out {out} --seed 1"\
depends = ["python3-numpy"]\
deterministic = true\
seed = 1|
s|^cpu-hours = "FIXME.*|cpu-hours = 0.001|
