module kasparro-etl/tools/render-template

go 1.21
